// The cluster metadata as an immutable value: topics (by name and by id), their partitions,
// topic and broker config overrides, SCRAM credentials, ACLs, the producer id high-water mark and
// the finalized feature levels. An image is never changed once built: a MetadataDelta (delta.ts) replays records on
// top of one and builds the next, sharing what did not change (the topic maps are layered maps,
// so the next image costs what changed, not the number of topics). Replaying the same records always
// yields the same image; nothing here does I/O.
import type { ScramCredential } from '../protocol/scram.js';
import type { AclBinding } from '../protocol/acls.js';
import { LayeredMap } from './layered-map.js';
import { collisionKey } from './topic-names.js';

export interface PartitionImage {
  readonly partitionId: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
}

export interface TopicImage {
  readonly name: string;
  readonly topicId: string;
  /** Indexed by partition id; partitions are numbered 0..n-1. */
  readonly partitions: readonly PartitionImage[];
  readonly configs: ReadonlyMap<string, string>;
}

export interface BrokerEndpointImage {
  /** Listener name, e.g. PLAINTEXT. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Kafka's SecurityProtocol id (0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL). */
  readonly securityProtocol: number;
}

/** A registered broker, as its RegisterBrokerRecord and later changes say. */
export interface BrokerRegistration {
  readonly brokerId: number;
  /** Assigned by the controller at registration; heartbeats must carry it. */
  readonly brokerEpoch: bigint;
  /** The random id of the broker process that registered. */
  readonly incarnationId: string;
  readonly endpoints: readonly BrokerEndpointImage[];
  readonly rack: string | null;
  /** A fenced broker leads nothing and is left out of Metadata responses. */
  readonly fenced: boolean;
  readonly inControlledShutdown: boolean;
}

/** The parts of an image, as MetadataDelta.apply hands them over (owned by the image from then on). */
export interface MetadataImageParts {
  topicsByName: LayeredMap<string, TopicImage>;
  topicsById: LayeredMap<string, TopicImage>;
  namesByCollisionKey: LayeredMap<string, string>;
  brokers: Map<number, BrokerRegistration>;
  brokerConfigs: Map<string, ReadonlyMap<string, string>>;
  groupConfigs: Map<string, ReadonlyMap<string, string>>;
  nextProducerId: bigint;
  finalizedFeatures: Map<string, number>;
  pendingTopicConfigs: Map<string, ReadonlyMap<string, string>>;
  scramCredentials: Map<string, ReadonlyMap<number, ScramCredential>>;
  acls: Map<string, AclBinding>;
}

export class MetadataImage {
  static readonly EMPTY = new MetadataImage({
    topicsByName: LayeredMap.of(),
    topicsById: LayeredMap.of(),
    namesByCollisionKey: LayeredMap.of(),
    brokers: new Map(),
    brokerConfigs: new Map(),
    groupConfigs: new Map(),
    nextProducerId: 0n,
    finalizedFeatures: new Map(),
    pendingTopicConfigs: new Map(),
    scramCredentials: new Map(),
    acls: new Map(),
  });

  readonly topicsByName: LayeredMap<string, TopicImage>;
  readonly topicsById: LayeredMap<string, TopicImage>;
  /** Registered brokers by id, fenced ones included. */
  readonly brokers: ReadonlyMap<number, BrokerRegistration>;
  /** Broker config overrides by resource name ('' = cluster-wide default, else the node id). */
  readonly brokerConfigs: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Group config overrides (consumer.session.timeout.ms, ...) by group id; a group need not exist. */
  readonly groupConfigs: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** First producer id not yet handed out. */
  readonly nextProducerId: bigint;
  /** Finalized feature levels, metadata.version included; a feature at level 0 is absent. */
  readonly finalizedFeatures: ReadonlyMap<string, number>;
  /** Topic names by collisionKey(name), so a new name's collision check is one lookup. */
  readonly namesByCollisionKey: LayeredMap<string, string>;
  /** Configs recorded before their topic (never written that way by us, kept for robustness). */
  readonly pendingTopicConfigs: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** SCRAM credentials by user name, then by Kafka's mechanism type (1 SHA-256, 2 SHA-512). */
  readonly scramCredentials: ReadonlyMap<string, ReadonlyMap<number, ScramCredential>>;
  /** ACL bindings by their id (AccessControlEntryRecord.Id). */
  readonly acls: ReadonlyMap<string, AclBinding>;

  constructor(parts: MetadataImageParts) {
    this.topicsByName = parts.topicsByName;
    this.topicsById = parts.topicsById;
    this.namesByCollisionKey = parts.namesByCollisionKey;
    this.brokers = parts.brokers;
    this.brokerConfigs = parts.brokerConfigs;
    this.groupConfigs = parts.groupConfigs;
    this.nextProducerId = parts.nextProducerId;
    this.finalizedFeatures = parts.finalizedFeatures;
    this.pendingTopicConfigs = parts.pendingTopicConfigs;
    this.scramCredentials = parts.scramCredentials;
    this.acls = parts.acls;
  }

  /** The ACL bindings of one resource type (the authorizer asks per request; built once per image). */
  aclsOfType(resourceType: number): readonly AclBinding[] {
    if (this.aclsByType === null) {
      const byType = new Map<number, AclBinding[]>();
      for (const acl of this.acls.values()) {
        let list = byType.get(acl.resourceType);
        if (list === undefined) byType.set(acl.resourceType, (list = []));
        list.push(acl);
      }
      this.aclsByType = byType;
    }
    return this.aclsByType.get(resourceType) ?? [];
  }

  private aclsByType: Map<number, AclBinding[]> | null = null;

  /** Unfenced brokers, by id: the ones that may lead partitions and that Metadata lists. */
  liveBrokers(): readonly BrokerRegistration[] {
    // Asked by every Metadata request; the image never changes, so once per image.
    if (this.live === null) {
      const out: BrokerRegistration[] = [];
      for (const b of this.brokers.values()) if (!b.fenced) out.push(b);
      this.live = out.sort((a, b) => a.brokerId - b.brokerId);
    }
    return this.live;
  }

  private live: readonly BrokerRegistration[] | null = null;

  /** An existing topic whose name collides with `name` ('.' versus '_'), or undefined. */
  topicCollidingWith(name: string): string | undefined {
    return this.namesByCollisionKey.get(collisionKey(name));
  }
}
