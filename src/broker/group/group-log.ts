// The records the group coordinator keeps in __consumer_offsets, in Kafka's format, so that the
// topic's partitions hold the same bytes a Kafka broker would write:
//   key   = int16 key version + key struct; the key version is the record type
//           (0 and 1: OffsetCommitKey, 2: GroupMetadataKey)
//   value = int16 value version + value struct, or null (a tombstone: offset or group deleted)
// Values are written at the versions Kafka 3.x writes: OffsetCommitValue v3 (v1 when the commit
// carries an explicit expire timestamp, which only v1 stores), GroupMetadataValue v3.
import { Reader, Writer } from '../../protocol/codec/index.js';
import { GroupMetadataKey } from '../../protocol/messages/GroupMetadataKey.js';
import { GroupMetadataValue, type GroupMetadataValueData } from '../../protocol/messages/GroupMetadataValue.js';
import { OffsetCommitKey } from '../../protocol/messages/OffsetCommitKey.js';
import { OffsetCommitValue } from '../../protocol/messages/OffsetCommitValue.js';
import { ATTR_CONTROL, ATTR_TRANSACTIONAL } from '../../protocol/records/batch-header.js';
import { decodeControlRecordKey, decodeRecordBatch, encodeRecordBatch, forEachBatch, type BatchRecord } from '../../protocol/records/record-batch.js';
import type { ClassicGroup, CommittedOffset } from './classic-group.js';
import { decodeConsumerGroupRecord, type ConsumerGroupRecord } from './consumer-group-log.js';

const OFFSET_COMMIT_KEY_VERSION = 1;
const GROUP_METADATA_KEY_VERSION = 2;
const GROUP_METADATA_VALUE_VERSION = 3;

export type GroupLogRecord =
  | { kind: 'offset'; groupId: string; topic: string; partition: number; value: CommittedOffset | null }
  | { kind: 'group'; groupId: string; value: GroupMetadataValueData | null }
  | { kind: 'consumer'; groupId: string; record: ConsumerGroupRecord };

function withVersion(version: number, body: (w: Writer) => void): Buffer {
  const w = new Writer();
  w.int16(version);
  body(w);
  return w.toBuffer();
}

export function offsetCommitRecord(groupId: string, topic: string, partition: number, value: CommittedOffset | null, nowMs: number): BatchRecord {
  const key = withVersion(OFFSET_COMMIT_KEY_VERSION, (w) => OffsetCommitKey.encode(w, OFFSET_COMMIT_KEY_VERSION, { group: groupId, topic, partition }));
  if (value === null) return { key, value: null, timestamp: nowMs };
  const version = value.expireTimestampMs === null ? 3 : 1;
  const body = {
    offset: value.offset,
    leaderEpoch: version >= 3 ? value.leaderEpoch : -1,
    metadata: value.metadata,
    commitTimestamp: BigInt(value.commitTimestampMs),
    expireTimestamp: BigInt(value.expireTimestampMs ?? -1),
  };
  return { key, value: withVersion(version, (w) => OffsetCommitValue.encode(w, version, body)), timestamp: nowMs };
}

export function groupMetadataRecord(group: ClassicGroup, nowMs: number): BatchRecord {
  const key = withVersion(GROUP_METADATA_KEY_VERSION, (w) => GroupMetadataKey.encode(w, GROUP_METADATA_KEY_VERSION, { group: group.groupId }));
  const value: GroupMetadataValueData = {
    protocolType: group.protocolType ?? '',
    generation: group.generationId,
    protocol: group.protocolName,
    leader: group.leaderId,
    currentStateTimestamp: BigInt(group.stateTimestampMs),
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeout: m.rebalanceTimeoutMs,
      sessionTimeout: m.sessionTimeoutMs,
      subscription: group.metadataFor(m, group.protocolName),
      assignment: m.assignment,
    })),
  };
  return {
    key,
    value: withVersion(GROUP_METADATA_VALUE_VERSION, (w) => GroupMetadataValue.encode(w, GROUP_METADATA_VALUE_VERSION, value)),
    timestamp: nowMs,
  };
}

export function groupTombstoneRecord(groupId: string, nowMs: number): BatchRecord {
  const key = withVersion(GROUP_METADATA_KEY_VERSION, (w) => GroupMetadataKey.encode(w, GROUP_METADATA_KEY_VERSION, { group: groupId }));
  return { key, value: null, timestamp: nowMs };
}

/** One uncompressed batch of coordinator records (the unit appended atomically). */
export function encodeGroupBatch(records: BatchRecord[]): Buffer {
  return encodeRecordBatch({ records });
}

/** Decodes one coordinator record; returns null for record types this broker does not keep. */
export function decodeGroupRecord(key: Buffer, value: Buffer | null): GroupLogRecord | null {
  const kr = new Reader(key);
  const keyVersion = kr.int16();
  if (kr.error !== null) throw new Error(`__consumer_offsets record key too short (${key.length} bytes)`);
  if (keyVersion === 0 || keyVersion === 1) {
    const k = OffsetCommitKey.decode(kr, keyVersion);
    if (value === null) return { kind: 'offset', groupId: k.group, topic: k.topic, partition: k.partition, value: null };
    const vr = new Reader(value);
    const valueVersion = vr.int16();
    const v = OffsetCommitValue.decode(vr, valueVersion);
    const expire = Number(v.expireTimestamp);
    return {
      kind: 'offset',
      groupId: k.group,
      topic: k.topic,
      partition: k.partition,
      value: {
        offset: v.offset,
        leaderEpoch: v.leaderEpoch,
        metadata: v.metadata,
        commitTimestampMs: Number(v.commitTimestamp),
        expireTimestampMs: expire >= 0 ? expire : null,
      },
    };
  }
  if (keyVersion === 2) {
    const k = GroupMetadataKey.decode(kr, keyVersion);
    if (value === null) return { kind: 'group', groupId: k.group, value: null };
    const vr = new Reader(value);
    const valueVersion = vr.int16();
    return { kind: 'group', groupId: k.group, value: GroupMetadataValue.decode(vr, valueVersion) };
  }
  const consumer = decodeConsumerGroupRecord(keyVersion, kr, value);
  if (consumer !== null) return { kind: 'consumer', groupId: consumer.groupId, record: consumer };
  // Other record types (share and streams groups): not kept by this coordinator.
  return null;
}

/**
 * TxnOffsetCommit's records: one transactional batch of the producer (Kafka's group coordinator
 * writes them so), with the sequence this coordinator keeps per producer and partition, so the
 * partition's producer state accepts it like any transactional write and the producer's marker
 * closes it.
 */
export function encodeTxnOffsetBatch(records: BatchRecord[], producerId: bigint, producerEpoch: number, baseSequence: number): Buffer {
  return encodeRecordBatch({ records, producerId, producerEpoch, baseSequence, transactional: true });
}

/** A batch of __consumer_offsets as replay needs it: its records (with the producer of a transactional batch), or a marker. */
export type GroupLogEntry =
  | { kind: 'records'; records: GroupLogRecord[]; txn: { producerId: bigint; producerEpoch: number; lastSequence: number } | null }
  | { kind: 'marker'; producerId: bigint; committed: boolean };

/** Every batch in `batches` (whole batches as stored), in log order. */
export function* decodeGroupLogEntries(batches: Buffer): Generator<GroupLogEntry> {
  const positions: number[] = [];
  forEachBatch(batches, (_header, pos) => {
    positions.push(pos);
  });
  for (const pos of positions) {
    const batch = decodeRecordBatch(batches, pos);
    const h = batch.header;
    if ((h.attributes & ATTR_CONTROL) !== 0) {
      const key = batch.records[0]?.key ?? null;
      if (key === null) continue;
      const type = decodeControlRecordKey(key).type;
      // 0 ABORT, 1 COMMIT; other control types say nothing about offsets.
      if (type === 0 || type === 1) yield { kind: 'marker', producerId: h.producerId, committed: type === 1 };
      continue;
    }
    const records: GroupLogRecord[] = [];
    for (const r of batch.records) {
      if (r.key === null) continue;
      const decoded = decodeGroupRecord(r.key, r.value);
      if (decoded !== null) records.push(decoded);
    }
    const transactional = (h.attributes & ATTR_TRANSACTIONAL) !== 0 && h.producerId >= 0n;
    yield { kind: 'records', records, txn: transactional ? { producerId: h.producerId, producerEpoch: h.producerEpoch, lastSequence: h.baseSequence + h.lastOffsetDelta } : null };
  }
}

/** Every coordinator record in `batches` (whole batches as stored), in log order; control batches skipped. */
export function* decodeGroupRecords(batches: Buffer): Generator<GroupLogRecord> {
  for (const e of decodeGroupLogEntries(batches)) if (e.kind === 'records') yield* e.records;
}
