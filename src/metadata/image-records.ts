// An image as metadata records: what a KRaft snapshot holds. Replaying imageRecords(image) on the
// empty image yields `image` again (same topics, partitions with their epochs, configs, brokers,
// features, producer ids, SCRAM credentials and ACLs), which is what lets the log below a
// snapshot be deleted. snapshotTransition(previous, next) is what a node that installs a snapshot
// publishes: the removals that take `previous` to the snapshot's content, then that content, so
// the broker side, which reacts to records, sees deleted topics go as it would from the log.
import type { MetadataImage } from './image.js';
import { ConfigResourceType, MetadataRecordType, type MetadataRecord } from './records.js';

/** Records that build `image` from MetadataImage.EMPTY, in an order replay accepts. */
export function imageRecords(image: MetadataImage): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  // metadata.version first, as Kafka's snapshots start: every later record is read under it.
  for (const [name, featureLevel] of sortedEntries(image.finalizedFeatures)) {
    out.push({ type: MetadataRecordType.FeatureLevelRecord, version: 0, data: { name, featureLevel } });
  }
  for (const b of [...image.brokers.values()].sort((x, y) => x.brokerId - y.brokerId)) {
    out.push({
      type: MetadataRecordType.RegisterBrokerRecord,
      version: 3,
      data: {
        brokerId: b.brokerId,
        isMigratingZkBroker: false,
        incarnationId: b.incarnationId,
        brokerEpoch: b.brokerEpoch,
        endPoints: b.endpoints.map((e) => ({ name: e.name, host: e.host, port: e.port, securityProtocol: e.securityProtocol })),
        features: [],
        rack: b.rack,
        fenced: b.fenced,
        inControlledShutdown: b.inControlledShutdown,
        logDirs: [],
      },
    });
  }
  for (const [resourceName, configs] of sortedEntries(image.brokerConfigs)) configRecords(out, ConfigResourceType.BROKER, resourceName, configs);
  for (const topic of [...image.topicsById.values()].sort((x, y) => compare(x.name, y.name))) {
    out.push({ type: MetadataRecordType.TopicRecord, version: 0, data: { name: topic.name, topicId: topic.topicId } });
    for (const p of topic.partitions) {
      out.push({
        type: MetadataRecordType.PartitionRecord,
        version: 0,
        data: {
          partitionId: p.partitionId,
          topicId: topic.topicId,
          replicas: p.replicas.slice(),
          isr: p.isr.slice(),
          removingReplicas: [],
          addingReplicas: [],
          leader: p.leader,
          leaderRecoveryState: 0,
          leaderEpoch: p.leaderEpoch,
          partitionEpoch: p.partitionEpoch,
          directories: [],
          eligibleLeaderReplicas: null,
          lastKnownElr: null,
        },
      });
    }
    configRecords(out, ConfigResourceType.TOPIC, topic.name, topic.configs);
  }
  // Configs of topic names that have no topic: after every topic, so none of them is taken up.
  for (const [name, configs] of sortedEntries(image.pendingTopicConfigs)) configRecords(out, ConfigResourceType.TOPIC, name, configs);
  for (const [group, configs] of sortedEntries(image.groupConfigs)) configRecords(out, ConfigResourceType.GROUP, group, configs);
  if (image.nextProducerId > 0n) {
    out.push({ type: MetadataRecordType.ProducerIdsRecord, version: 0, data: { brokerId: -1, brokerEpoch: -1n, nextProducerId: image.nextProducerId } });
  }
  for (const [name, byMechanism] of sortedEntries(image.scramCredentials)) {
    for (const [mechanism, c] of [...byMechanism].sort((x, y) => x[0] - y[0])) {
      out.push({ type: MetadataRecordType.UserScramCredentialRecord, version: 0, data: { name, mechanism, salt: c.salt, storedKey: c.storedKey, serverKey: c.serverKey, iterations: c.iterations } });
    }
  }
  for (const [id, a] of sortedEntries(image.acls)) {
    out.push({
      type: MetadataRecordType.AccessControlEntryRecord,
      version: 0,
      data: { id, resourceType: a.resourceType, resourceName: a.resourceName, patternType: a.patternType, principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permission },
    });
  }
  return out;
}

/**
 * Records that take `previous` to `next` when `next` is known only whole (a snapshot): removals
 * of what `next` lacks, then imageRecords(next). Replayed on `previous` they yield `next`.
 */
export function snapshotTransition(previous: MetadataImage, next: MetadataImage): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  for (const [topicId, topic] of previous.topicsById) {
    // A topic whose name now belongs to another id was deleted and made again.
    if (next.topicsById.get(topicId)?.name !== topic.name) out.push({ type: MetadataRecordType.RemoveTopicRecord, version: 0, data: { topicId } });
  }
  for (const b of previous.brokers.values()) {
    if (!next.brokers.has(b.brokerId)) out.push({ type: MetadataRecordType.UnregisterBrokerRecord, version: 0, data: { brokerId: b.brokerId, brokerEpoch: b.brokerEpoch } });
  }
  removedConfigs(out, ConfigResourceType.BROKER, previous.brokerConfigs, next.brokerConfigs);
  removedConfigs(out, ConfigResourceType.GROUP, previous.groupConfigs, next.groupConfigs);
  removedConfigs(out, ConfigResourceType.TOPIC, previous.pendingTopicConfigs, next.pendingTopicConfigs);
  for (const name of previous.finalizedFeatures.keys()) {
    if (!next.finalizedFeatures.has(name)) out.push({ type: MetadataRecordType.FeatureLevelRecord, version: 0, data: { name, featureLevel: 0 } });
  }
  for (const [name, byMechanism] of previous.scramCredentials) {
    for (const mechanism of byMechanism.keys()) {
      if (next.scramCredentials.get(name)?.has(mechanism) !== true) out.push({ type: MetadataRecordType.RemoveUserScramCredentialRecord, version: 0, data: { name, mechanism } });
    }
  }
  for (const id of previous.acls.keys()) {
    if (!next.acls.has(id)) out.push({ type: MetadataRecordType.RemoveAccessControlEntryRecord, version: 0, data: { id } });
  }
  if (next.nextProducerId < previous.nextProducerId) {
    // Never written by a controller (producer ids only grow); kept exact for the image's sake.
    out.push({ type: MetadataRecordType.ProducerIdsRecord, version: 0, data: { brokerId: -1, brokerEpoch: -1n, nextProducerId: next.nextProducerId } });
  }
  for (const r of imageRecords(next)) out.push(r);
  return out;
}

function configRecords(out: MetadataRecord[], resourceType: number, resourceName: string, configs: ReadonlyMap<string, string>): void {
  for (const [name, value] of sortedEntries(configs)) out.push({ type: MetadataRecordType.ConfigRecord, version: 0, data: { resourceType, resourceName, name, value } });
}

/** ConfigRecords with a null value for every key of `previous` that `next` lacks. */
function removedConfigs(out: MetadataRecord[], resourceType: number, previous: ReadonlyMap<string, ReadonlyMap<string, string>>, next: ReadonlyMap<string, ReadonlyMap<string, string>>): void {
  for (const [resourceName, configs] of previous) {
    const now = next.get(resourceName);
    for (const name of configs.keys()) {
      if (now?.has(name) !== true) out.push({ type: MetadataRecordType.ConfigRecord, version: 0, data: { resourceType, resourceName, name, value: null } });
    }
  }
}

/** Entries sorted by key, so a snapshot of the same image is the same bytes. */
function sortedEntries<V>(m: ReadonlyMap<string, V>): [string, V][] {
  return [...m].sort((x, y) => compare(x[0], y[0]));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
