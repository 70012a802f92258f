// Records replayed on top of an image: what changed, kept apart from the image, until apply()
// builds the next image. The base image is never touched; apply() copies the maps it changes and
// shares every topic that did not change.
import type { ScramCredential } from '../protocol/scram.js';
import type { AclBinding } from '../protocol/acls.js';
import { MetadataImage, type BrokerRegistration, type PartitionImage, type TopicImage } from './image.js';
import { DELETED, type Change } from './layered-map.js';
import { ConfigResourceType, MetadataRecordType, type MetadataRecord } from './records.js';
import { collisionKey } from './topic-names.js';

interface TopicDraft {
  name: string;
  topicId: string;
  partitions: PartitionImage[];
  configs: Map<string, string>;
}

export class MetadataDelta {
  /** The records replayed, in order. */
  readonly records: MetadataRecord[] = [];
  /** Changed topics by id: a draft, or null when removed. In replay order. */
  private readonly topics = new Map<string, TopicDraft | null>();
  /** Topic name -> the id it now names (null: the name was freed), for names that changed. */
  private readonly names = new Map<string, string | null>();
  /** Changed broker registrations; null: unregistered. */
  private readonly brokers = new Map<number, BrokerRegistration | null>();
  private readonly brokerConfigs = new Map<string, Map<string, string>>();
  private readonly groupConfigs = new Map<string, Map<string, string>>();
  private readonly pendingTopicConfigs = new Map<string, Map<string, string>>();
  private readonly features = new Map<string, number>();
  private nextProducerId: bigint | null = null;
  /** Changed SCRAM credentials: user -> mechanism type -> credential, or null when removed. */
  private readonly scram = new Map<string, Map<number, ScramCredential | null>>();
  /** Changed ACLs by id; null: removed. */
  private readonly acls = new Map<string, AclBinding | null>();

  constructor(readonly base: MetadataImage) {}

  /** The topic named `name` as of the records replayed so far. */
  topicByName(name: string): { readonly name: string; readonly topicId: string; readonly partitions: readonly PartitionImage[] } | undefined {
    if (!this.names.has(name)) return this.base.topicsByName.get(name);
    const id = this.names.get(name)!;
    return id === null ? undefined : this.topicById(id);
  }

  topicById(topicId: string): { readonly name: string; readonly topicId: string; readonly partitions: readonly PartitionImage[] } | undefined {
    if (!this.topics.has(topicId)) return this.base.topicsById.get(topicId);
    return this.topics.get(topicId) ?? undefined;
  }

  /** The registration of broker `id` as of the records replayed so far. */
  broker(id: number): BrokerRegistration | undefined {
    if (this.brokers.has(id)) return this.brokers.get(id) ?? undefined;
    return this.base.brokers.get(id);
  }

  /** True when no record was replayed. */
  get isEmpty(): boolean {
    return this.records.length === 0;
  }

  replay(record: MetadataRecord): void {
    this.records.push(record);
    switch (record.type) {
      case MetadataRecordType.TopicRecord: {
        const { name, topicId } = record.data;
        const pending = this.pendingTopicConfigs.get(name) ?? this.base.pendingTopicConfigs.get(name);
        const configs = pending === undefined ? new Map<string, string>() : new Map(pending);
        this.pendingTopicConfigs.delete(name);
        // A name's pending configs are used up: an empty entry shadows the base image's.
        if (this.base.pendingTopicConfigs.has(name)) this.pendingTopicConfigs.set(name, new Map());
        this.topics.set(topicId, { name, topicId, partitions: [], configs });
        this.names.set(name, topicId);
        return;
      }
      case MetadataRecordType.PartitionRecord: {
        const d = record.data;
        const topic = this.draft(d.topicId);
        if (topic === undefined) throw new Error(`PartitionRecord for unknown topic id ${d.topicId}`);
        topic.partitions[d.partitionId] = {
          partitionId: d.partitionId,
          replicas: d.replicas.slice(),
          isr: d.isr.slice(),
          leader: d.leader,
          leaderEpoch: d.leaderEpoch,
          partitionEpoch: d.partitionEpoch,
        };
        return;
      }
      case MetadataRecordType.PartitionChangeRecord: {
        const d = record.data;
        const topic = this.draft(d.topicId);
        const p = topic?.partitions[d.partitionId];
        if (topic === undefined || p === undefined) throw new Error(`PartitionChangeRecord for unknown partition ${d.topicId}-${d.partitionId}`);
        topic.partitions[d.partitionId] = {
          partitionId: p.partitionId,
          replicas: d.replicas !== null ? d.replicas.slice() : p.replicas,
          isr: d.isr !== null ? d.isr.slice() : p.isr,
          leader: d.leader !== -2 ? d.leader : p.leader,
          leaderEpoch: d.leader !== -2 ? p.leaderEpoch + 1 : p.leaderEpoch,
          partitionEpoch: p.partitionEpoch + 1,
        };
        return;
      }
      case MetadataRecordType.ConfigRecord: {
        const d = record.data;
        let target: Map<string, string>;
        if (d.resourceType === ConfigResourceType.TOPIC) {
          const topic = this.topicByName(d.resourceName);
          target = topic === undefined ? this.pendingConfigsFor(d.resourceName) : this.draft(topic.topicId)!.configs;
        } else if (d.resourceType === ConfigResourceType.BROKER) {
          target = this.brokerConfigs.get(d.resourceName) ?? new Map(this.base.brokerConfigs.get(d.resourceName) ?? []);
          this.brokerConfigs.set(d.resourceName, target);
        } else if (d.resourceType === ConfigResourceType.GROUP) {
          target = this.groupConfigs.get(d.resourceName) ?? new Map(this.base.groupConfigs.get(d.resourceName) ?? []);
          this.groupConfigs.set(d.resourceName, target);
        } else {
          return;
        }
        if (d.value === null) target.delete(d.name);
        else target.set(d.name, d.value);
        return;
      }
      case MetadataRecordType.RemoveTopicRecord: {
        const topic = this.topicById(record.data.topicId);
        if (topic === undefined) return;
        this.topics.set(record.data.topicId, null);
        this.names.set(topic.name, null);
        return;
      }
      case MetadataRecordType.RegisterBrokerRecord: {
        const d = record.data;
        this.brokers.set(d.brokerId, {
          brokerId: d.brokerId,
          brokerEpoch: d.brokerEpoch,
          incarnationId: d.incarnationId,
          endpoints: d.endPoints.map((e) => ({ name: e.name, host: e.host, port: e.port, securityProtocol: e.securityProtocol })),
          rack: d.rack,
          fenced: d.fenced,
          inControlledShutdown: d.inControlledShutdown,
        });
        return;
      }
      case MetadataRecordType.UnregisterBrokerRecord: {
        const b = this.broker(record.data.brokerId);
        if (b !== undefined && b.brokerEpoch === record.data.brokerEpoch) this.brokers.set(b.brokerId, null);
        return;
      }
      case MetadataRecordType.FenceBrokerRecord:
      case MetadataRecordType.UnfenceBrokerRecord: {
        // A record for an older registration of the broker (a restart in between) changes nothing.
        const b = this.broker(record.data.id);
        if (b === undefined || b.brokerEpoch !== record.data.epoch) return;
        this.brokers.set(b.brokerId, { ...b, fenced: record.type === MetadataRecordType.FenceBrokerRecord });
        return;
      }
      case MetadataRecordType.BrokerRegistrationChangeRecord: {
        const d = record.data;
        const b = this.broker(d.brokerId);
        if (b === undefined || b.brokerEpoch !== d.brokerEpoch) return;
        // Kafka's BrokerRegistrationFencingChange / InControlledShutdownChange: 0 none, 1 set, -1 clear.
        let { fenced, inControlledShutdown } = b;
        if (d.fenced === 1) fenced = true;
        else if (d.fenced === -1) fenced = false;
        if (d.inControlledShutdown === 1) inControlledShutdown = true;
        else if (d.inControlledShutdown === -1) inControlledShutdown = false;
        this.brokers.set(b.brokerId, { ...b, fenced, inControlledShutdown });
        return;
      }
      case MetadataRecordType.ProducerIdsRecord:
        this.nextProducerId = record.data.nextProducerId;
        return;
      case MetadataRecordType.FeatureLevelRecord:
        this.features.set(record.data.name, record.data.featureLevel);
        return;
      case MetadataRecordType.UserScramCredentialRecord: {
        const d = record.data;
        // Copied: decoded bytes may be views of a larger (reused) buffer; these live in every image.
        this.scramOf(d.name).set(d.mechanism, { salt: Buffer.from(d.salt), storedKey: Buffer.from(d.storedKey), serverKey: Buffer.from(d.serverKey), iterations: d.iterations });
        return;
      }
      case MetadataRecordType.RemoveUserScramCredentialRecord:
        this.scramOf(record.data.name).set(record.data.mechanism, null);
        return;
      case MetadataRecordType.AccessControlEntryRecord: {
        const d = record.data;
        this.acls.set(d.id, { resourceType: d.resourceType, resourceName: d.resourceName, patternType: d.patternType, principal: d.principal, host: d.host, operation: d.operation, permission: d.permissionType });
        return;
      }
      case MetadataRecordType.RemoveAccessControlEntryRecord:
        this.acls.set(record.data.id, null);
        return;
    }
  }

  /** The next image: the base with every replayed record applied. */
  apply(): MetadataImage {
    const base = this.base;
    if (this.isEmpty) return base;
    let { topicsByName, topicsById, namesByCollisionKey } = base;
    if (this.topics.size > 0) {
      const byName = new Map<string, Change<TopicImage>>();
      const byId = new Map<string, Change<TopicImage>>();
      const byKey = new Map<string, Change<string>>();
      const nameNow = (name: string) => (byName.has(name) ? live(byName.get(name)!) : base.topicsByName.get(name));
      const keyNow = (key: string) => (byKey.has(key) ? live(byKey.get(key)!) : base.namesByCollisionKey.get(key));
      for (const [topicId, draft] of this.topics) {
        const old = base.topicsById.get(topicId);
        if (draft !== null) {
          const topic: TopicImage = { name: draft.name, topicId, partitions: draft.partitions, configs: draft.configs };
          byId.set(topicId, topic);
          byName.set(topic.name, topic);
          byKey.set(collisionKey(topic.name), topic.name);
          if (old === undefined || old.name === topic.name) continue;
        } else if (old !== undefined) {
          byId.set(topicId, DELETED);
        }
        if (old === undefined) continue;
        // The old topic's name and collision key go, unless another topic holds them now.
        if (nameNow(old.name)?.topicId === topicId) byName.set(old.name, DELETED);
        const key = collisionKey(old.name);
        if (keyNow(key) === old.name && nameNow(old.name) === undefined) byKey.set(key, DELETED);
      }
      topicsByName = topicsByName.with(byName);
      topicsById = topicsById.with(byId);
      namesByCollisionKey = namesByCollisionKey.with(byKey);
    }
    let brokers = base.brokers as Map<number, BrokerRegistration>;
    if (this.brokers.size > 0) {
      brokers = new Map(brokers);
      for (const [id, b] of this.brokers) {
        if (b === null) brokers.delete(id);
        else brokers.set(id, b);
      }
    }
    let brokerConfigs = base.brokerConfigs as Map<string, ReadonlyMap<string, string>>;
    if (this.brokerConfigs.size > 0) {
      brokerConfigs = new Map(brokerConfigs);
      for (const [name, configs] of this.brokerConfigs) brokerConfigs.set(name, configs);
    }
    let groupConfigs = base.groupConfigs as Map<string, ReadonlyMap<string, string>>;
    if (this.groupConfigs.size > 0) {
      groupConfigs = new Map(groupConfigs);
      for (const [name, configs] of this.groupConfigs) {
        if (configs.size === 0) groupConfigs.delete(name);
        else groupConfigs.set(name, configs);
      }
    }
    let finalizedFeatures = base.finalizedFeatures as Map<string, number>;
    if (this.features.size > 0) {
      finalizedFeatures = new Map(finalizedFeatures);
      for (const [name, level] of this.features) {
        if (level === 0) finalizedFeatures.delete(name);
        else finalizedFeatures.set(name, level);
      }
    }
    let pendingTopicConfigs = base.pendingTopicConfigs as Map<string, ReadonlyMap<string, string>>;
    if (this.pendingTopicConfigs.size > 0) {
      pendingTopicConfigs = new Map(pendingTopicConfigs);
      for (const [name, configs] of this.pendingTopicConfigs) {
        if (configs.size === 0) pendingTopicConfigs.delete(name);
        else pendingTopicConfigs.set(name, configs);
      }
    }
    let scramCredentials = base.scramCredentials as Map<string, ReadonlyMap<number, ScramCredential>>;
    if (this.scram.size > 0) {
      scramCredentials = new Map(scramCredentials);
      for (const [user, changes] of this.scram) {
        const now = new Map(scramCredentials.get(user) ?? []);
        for (const [mechanism, credential] of changes) {
          if (credential === null) now.delete(mechanism);
          else now.set(mechanism, credential);
        }
        if (now.size === 0) scramCredentials.delete(user);
        else scramCredentials.set(user, now);
      }
    }
    let acls = base.acls as Map<string, AclBinding>;
    if (this.acls.size > 0) {
      acls = new Map(acls);
      for (const [id, acl] of this.acls) {
        if (acl === null) acls.delete(id);
        else acls.set(id, acl);
      }
    }
    return new MetadataImage({
      topicsByName,
      topicsById,
      namesByCollisionKey,
      brokers,
      brokerConfigs,
      groupConfigs,
      nextProducerId: this.nextProducerId ?? base.nextProducerId,
      finalizedFeatures,
      pendingTopicConfigs,
      scramCredentials,
      acls,
    });
  }

  /** The SCRAM credential of `user` for mechanism type `mechanism` as of the records replayed so far. */
  scramCredential(user: string, mechanism: number): ScramCredential | undefined {
    const changed = this.scram.get(user);
    if (changed?.has(mechanism) === true) return changed.get(mechanism) ?? undefined;
    return this.base.scramCredentials.get(user)?.get(mechanism);
  }

  private scramOf(user: string): Map<number, ScramCredential | null> {
    let m = this.scram.get(user);
    if (m === undefined) this.scram.set(user, (m = new Map()));
    return m;
  }

  /** The draft of a live topic, copied from the base image on its first change. */
  private draft(topicId: string): TopicDraft | undefined {
    if (this.topics.has(topicId)) return this.topics.get(topicId) ?? undefined;
    const topic = this.base.topicsById.get(topicId);
    if (topic === undefined) return undefined;
    const draft: TopicDraft = { name: topic.name, topicId, partitions: topic.partitions.slice(), configs: new Map(topic.configs) };
    this.topics.set(topicId, draft);
    return draft;
  }

  private pendingConfigsFor(name: string): Map<string, string> {
    let m = this.pendingTopicConfigs.get(name);
    if (m === undefined) {
      m = new Map(this.base.pendingTopicConfigs.get(name) ?? []);
      this.pendingTopicConfigs.set(name, m);
    }
    return m;
  }
}

/** The image `records` make of `base`. */
export function applyRecords(base: MetadataImage, records: readonly MetadataRecord[]): MetadataImage {
  const delta = new MetadataDelta(base);
  for (const r of records) delta.replay(r);
  return delta.apply();
}

function live<V>(change: Change<V>): V | undefined {
  return change === DELETED ? undefined : change;
}
