// The partition loader: replays the batches of one __consumer_offsets partition (a chunk at a
// time, as the coordinator runtime hands them over) and, once the partition is complete, builds
// its classic groups and hands its KIP-848 records to the consumer group coordinator.
import type { Logger } from '../../logger.js';
import type { GroupMetadataValueData } from '../../protocol/messages/GroupMetadataValue.js';
import { ClassicGroup, GroupState, offsetKey, parseSubscriptionTopics, type CommittedOffset } from './classic-group.js';
import type { ConsumerGroupCoordinator } from './consumer-group-coordinator.js';
import type { ConsumerGroupRecord } from './consumer-group-log.js';
import { decodeGroupLogEntries, type GroupLogRecord } from './group-log.js';
import type { TxnOffsets } from './txn-offsets.js';

/** What the replay of one __consumer_offsets partition has read so far. */
interface PartitionLoad {
  metadata: Map<string, GroupMetadataValueData | null>;
  offsets: Map<string, Map<string, { topic: string; partition: number; value: CommittedOffset }>>;
  /** Which protocol wrote a group's latest group record (a group id changes type only while empty). */
  lastType: Map<string, 'classic' | 'consumer'>;
  /** KIP-848 records, handed to the consumer coordinator when the partition is complete. */
  consumerRecords: ConsumerGroupRecord[];
}

function newPartitionLoad(): PartitionLoad {
  return { metadata: new Map(), offsets: new Map(), lastType: new Map(), consumerRecords: [] };
}


export class PartitionLoader {
  /** Replays in progress, by partition. */
  private readonly loads = new Map<number, PartitionLoad>();

  constructor(
    private readonly log: Logger,
    /** Transactional offsets: pending until their producer's marker later in the log. */
    private readonly txnOffsets: TxnOffsets,
  ) {}


  /** Replays one chunk of whole batches of `partition`, in log order. */
  replay(partition: number, batches: Buffer): void {
    let load = this.loads.get(partition);
    if (load === undefined) {
      this.loads.set(partition, (load = newPartitionLoad()));
      this.txnOffsets.drop(partition);
    }
    for (const e of decodeGroupLogEntries(batches)) {
      if (e.kind === 'marker') {
        const done = this.txnOffsets.complete(partition, e.producerId);
        if (!e.committed || done === undefined) continue;
        for (const [groupId, byKey] of done) for (const o of byKey.values()) this.apply(load, { kind: 'offset', groupId, topic: o.topic, partition: o.partition, value: o.value });
        continue;
      }
      if (e.txn !== null) {
        this.txnOffsets.noteSequence(partition, e.txn.producerId, e.txn.producerEpoch, e.txn.lastSequence);
        for (const r of e.records) {
          if (r.kind === 'offset' && r.value !== null) this.txnOffsets.addPending(partition, e.txn.producerId, r.groupId, [{ topic: r.topic, partition: r.partition, value: r.value }]);
        }
        continue;
      }
      for (const r of e.records) this.apply(load, r);
    }
  }

  private apply(load: PartitionLoad, r: GroupLogRecord): void {
    if (r.kind === 'group') {
      load.metadata.set(r.groupId, r.value);
      if (r.value !== null) load.lastType.set(r.groupId, 'classic');
    } else if (r.kind === 'consumer') {
      load.consumerRecords.push(r.record);
      if (r.record.type === 3 && r.record.value !== null) load.lastType.set(r.groupId, 'consumer');
    } else {
      let byPartition = load.offsets.get(r.groupId);
      if (byPartition === undefined) load.offsets.set(r.groupId, (byPartition = new Map()));
      const key = offsetKey(r.topic, r.partition);
      if (r.value === null) byPartition.delete(key);
      else byPartition.set(key, { topic: r.topic, partition: r.partition, value: r.value });
    }
  }

  /**
   * The partition's records are all replayed: builds its classic groups (returned, for the
   * classic driver to take over) and its consumer groups (in `consumer`).
   */
  finish(partition: number, consumer: ConsumerGroupCoordinator, now: number): ClassicGroup[] {
    const load = this.loads.get(partition) ?? newPartitionLoad();
    this.loads.delete(partition);
    const { metadata, offsets, lastType } = load;
    for (const record of load.consumerRecords) consumer.replay(record);
    const consumerOffsetsAtLoad = new Map<string, Map<string, CommittedOffset>>();
    const loaded: ClassicGroup[] = [];
    const groupIds = new Set([...metadata.keys(), ...offsets.keys()]);
    for (const groupId of groupIds) {
      const groupOffsets = offsets.get(groupId);
      if (consumer.isLoadingGroup(groupId) && (metadata.get(groupId) == null || lastType.get(groupId) === 'consumer')) {
        consumerOffsetsAtLoad.set(groupId, new Map([...(groupOffsets?.values() ?? [])].map((o) => [offsetKey(o.topic, o.partition), o.value])));
        continue;
      }
      const value = metadata.get(groupId) ?? null;
      if (value === null && (groupOffsets === undefined || groupOffsets.size === 0)) continue;
      const hasMembers = value !== null && value.members.length > 0;
      const group = new ClassicGroup(groupId, hasMembers ? GroupState.Stable : GroupState.Empty, now);
      if (value !== null) {
        group.generationId = value.generation;
        group.protocolType = value.protocolType === '' ? null : value.protocolType;
        group.protocolName = value.protocol;
        if (value.currentStateTimestamp >= 0n) group.stateTimestampMs = Number(value.currentStateTimestamp);
        for (const m of value.members) {
          group.add({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            rebalanceTimeoutMs: m.rebalanceTimeout < 0 ? m.sessionTimeout : m.rebalanceTimeout,
            sessionTimeoutMs: m.sessionTimeout,
            protocolType: value.protocolType,
            protocols: [{ name: value.protocol ?? '', metadata: m.subscription }],
            assignment: m.assignment,
            joinWaiter: null,
            syncWaiter: null,
            isNew: false,
          });
        }
        group.leaderId = value.leader;
        if (group.protocolType === 'consumer' && hasMembers) {
          // Recompute the subscribed topics as initNextGeneration would have.
          const topics = new Set<string>();
          let known = true;
          for (const m of group.members.values()) {
            const parsed = parseSubscriptionTopics(group.metadataFor(m, group.protocolName));
            if (parsed === null) known = false;
            else for (const t of parsed) topics.add(t);
          }
          group.subscribedTopics = known ? topics : null;
        }
      }
      for (const o of groupOffsets?.values() ?? []) group.offsets.set(offsetKey(o.topic, o.partition), o.value);
      loaded.push(group);
    }
    consumer.finishLoad((groupId) => consumerOffsetsAtLoad.get(groupId));
    if (groupIds.size > 0) this.log.info({ partition, groups: groupIds.size }, 'loaded groups from __consumer_offsets');
    return loaded;
  }

  /** Forgets a replay that will not finish (the partition was lost while loading). */
  discard(partition: number): void {
    this.loads.delete(partition);
  }
}
