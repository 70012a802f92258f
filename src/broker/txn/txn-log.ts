// The records the transaction coordinator keeps in __transaction_state, in Kafka's format, so the
// topic's partitions hold the bytes a Kafka broker would write:
//   key   = int16 key version (0) + TransactionLogKey { TransactionalId }
//   value = int16 value version + TransactionLogValue, or null (a tombstone: the id expired)
// Values are written at version 0 (what Kafka writes for transactions v1 clients), or at version 1
// when the id's producer id was rotated (epoch exhaustion): only version 1 has PreviousProducerId,
// which a retried InitProducerId needs. TransactionStatus is Kafka's TransactionState id.
import { Reader, Writer } from '../../protocol/codec/index.js';
import { TransactionLogKey } from '../../protocol/messages/TransactionLogKey.js';
import { TransactionLogValue } from '../../protocol/messages/TransactionLogValue.js';
import { ATTR_CONTROL } from '../../protocol/records/batch-header.js';
import { decodeRecordBatch, encodeRecordBatch, forEachBatch, type BatchRecord } from '../../protocol/records/record-batch.js';
import { TxnState, txnStateById, type TxnMetadata } from './txn-state.js';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';
const KEY_VERSION = 0;

/** What one __transaction_state record says: the id's metadata, or null once it expired. */
export interface TxnLogRecord {
  transactionalId: string;
  value: TxnMetadata | null;
}

function withVersion(version: number, body: (w: Writer) => void): Buffer {
  const w = new Writer();
  w.int16(version);
  body(w);
  return w.toBuffer();
}

function keyBytes(transactionalId: string): Buffer {
  return withVersion(KEY_VERSION, (w) => TransactionLogKey.encode(w, KEY_VERSION, { transactionalId }));
}

/** The partitions of a metadata grouped by topic, topics and partitions sorted (stable bytes). */
function partitionsByTopic(partitions: ReadonlySet<string>): { topic: string; partitionIds: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions) {
    const { topic, partition } = splitTopicPartition(tp);
    let list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  return [...byTopic.keys()].sort().map((topic) => ({ topic, partitionIds: byTopic.get(topic)!.sort((a, b) => a - b) }));
}

/** The key of a topic partition in a metadata's partition set. */
export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export function splitTopicPartition(key: string): { topic: string; partition: number } {
  const i = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
}

export function txnMetadataRecord(m: TxnMetadata, nowMs: number): BatchRecord {
  // Kafka stores no partitions for Empty and Complete* (they are cleared on completion).
  const body = {
    producerId: m.producerId,
    previousProducerId: m.lastProducerId,
    nextProducerId: -1n,
    producerEpoch: m.producerEpoch,
    transactionTimeoutMs: m.txnTimeoutMs,
    transactionStatus: m.state,
    transactionPartitions: m.state === TxnState.Empty ? null : partitionsByTopic(m.partitions),
    transactionLastUpdateTimestampMs: BigInt(m.txnLastUpdateTimestampMs),
    transactionStartTimestampMs: BigInt(m.txnStartTimestampMs),
    clientTransactionVersion: 0,
  };
  const version = m.lastProducerId === -1n ? 0 : 1;
  return { key: keyBytes(m.transactionalId), value: withVersion(version, (w) => TransactionLogValue.encode(w, version, body)), timestamp: nowMs };
}

export function txnTombstoneRecord(transactionalId: string, nowMs: number): BatchRecord {
  return { key: keyBytes(transactionalId), value: null, timestamp: nowMs };
}

export function encodeTxnBatch(records: BatchRecord[]): Buffer {
  return encodeRecordBatch({ records });
}

/** Decodes one record; null for a key version this broker does not know. */
export function decodeTxnLogRecord(key: Buffer, value: Buffer | null): TxnLogRecord | null {
  const kr = new Reader(key);
  const keyVersion = kr.int16();
  if (kr.error !== null) throw new Error(`__transaction_state record key too short (${key.length} bytes)`);
  if (keyVersion !== KEY_VERSION) return null;
  const k = TransactionLogKey.decode(kr, keyVersion);
  if (value === null) return { transactionalId: k.transactionalId, value: null };
  const vr = new Reader(value);
  const valueVersion = vr.int16();
  const v = TransactionLogValue.decode(vr, valueVersion);
  const state = txnStateById(v.transactionStatus);
  if (state === undefined) throw new Error(`__transaction_state: transactional id ${k.transactionalId} has unknown status ${v.transactionStatus}`);
  const partitions = new Set<string>();
  for (const t of v.transactionPartitions ?? []) for (const p of t.partitionIds) partitions.add(topicPartitionKey(t.topic, p));
  return {
    transactionalId: k.transactionalId,
    value: {
      transactionalId: k.transactionalId,
      producerId: v.producerId,
      lastProducerId: valueVersion >= 1 ? v.previousProducerId : -1n,
      producerEpoch: v.producerEpoch,
      lastProducerEpoch: -1,
      txnTimeoutMs: v.transactionTimeoutMs,
      state,
      partitions,
      txnStartTimestampMs: Number(v.transactionStartTimestampMs),
      txnLastUpdateTimestampMs: Number(v.transactionLastUpdateTimestampMs),
    },
  };
}

/** Every record in `batches` (whole batches as stored), in log order; control batches skipped. */
export function* decodeTxnLogRecords(batches: Buffer): Generator<TxnLogRecord> {
  const positions: number[] = [];
  forEachBatch(batches, (header, pos) => {
    if ((header.attributes & ATTR_CONTROL) === 0) positions.push(pos);
  });
  for (const pos of positions) {
    for (const r of decodeRecordBatch(batches, pos).records) {
      if (r.key === null) continue;
      const decoded = decodeTxnLogRecord(r.key, r.value);
      if (decoded !== null) yield decoded;
    }
  }
}
