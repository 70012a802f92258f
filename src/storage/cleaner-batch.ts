// What the log cleaner does to one stored batch: keep it as it is, drop it, or re-encode it with
// only the records it keeps. As Kafka's MemoryRecords.filterTo for magic 2:
//   - the base offset, lastOffsetDelta, producer id/epoch, base sequence and partition leader epoch
//     stay, so kept records keep their offsets and producer state (sequence numbers) still adds up;
//   - kept records are copied byte for byte (their offset deltas stay valid as the base offset
//     does), except when the batch gets a delete horizon (KIP-534): then the base timestamp becomes
//     the horizon and each record's timestamp delta is rewritten against it;
//   - a compressed batch is decompressed and the kept records recompressed with the same codec;
//   - a batch that loses every record disappears, unless it is its producer's last batch in the
//     log: then an empty batch (no records, same offsets) keeps the producer's sequence state
//     (for a marker: its epoch, when the producer has no data batch left);
//   - a batch the walk over the transactions (cleaner-txn.ts) calls discardable: a data batch of
//     an aborted transaction loses every record at once; a transaction marker first gets a delete
//     horizon of now + delete.retention.ms (as a tombstone does, Kafka's containsMarkerForEmptyTxn)
//     and goes in the first cleaning past it. Other markers stay as they are.
import {
  ATTR_COMPRESSION_MASK,
  ATTR_CONTROL,
  ATTR_DELETE_HORIZON,
  ATTR_TIMESTAMP_TYPE_LOG_APPEND,
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  type BatchHeader,
} from '../protocol/records/batch-header.js';
import { updateBatchCrc } from '../protocol/records/record-batch.js';
import { RecordWalker } from '../protocol/records/record-walker.js';
import { readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from '../protocol/varint.js';
import type { OffsetMap } from './offset-map.js';

/** Compression codecs, supplied by the broker (storage has none of its own). */
export interface CleanerCodec {
  /** Decompresses a records section; throws when it is corrupt or larger than the codec's bound. */
  decompress(compression: number, data: Buffer): Buffer;
  compress(compression: number, data: Buffer): Buffer;
}

export interface BatchFilterContext {
  map: OffsetMap;
  /** Records at or past this offset were not in the offset map's range: they all stay. */
  endOffset: number;
  nowMs: number;
  deleteRetentionMs: number;
  codec: CleanerCodec;
  /** Whether this batch is its producer's last one in the log (keep it even when emptied). */
  isLastBatchOfProducer(header: BatchHeader, lastOffset: number): boolean;
  /** Where the batch is, for error messages. */
  where: string;
}

export type BatchFilterResult =
  | { kind: 'keep'; records: number; tombstoneHorizonMs: number }
  | { kind: 'drop'; records: number }
  | { kind: 'rewrite'; batch: Buffer; records: number; kept: number; tombstoneHorizonMs: number };

export class CleanerCorruptBatchError extends Error {
  override readonly name = 'CleanerCorruptBatchError';
}

/** Reused by every call: filterBatch is synchronous, so walks never overlap. */
const walker = new RecordWalker();

interface KeptRecord {
  start: number;
  end: number;
  timestampDeltaPos: number;
}

/** The records section of `batch` (one whole batch), decompressed when needed. */
export function batchRecordsSection(batch: Buffer, header: BatchHeader, codec: CleanerCodec, where: string): Buffer {
  const compression = header.attributes & ATTR_COMPRESSION_MASK;
  const body = batch.subarray(RECORD_BATCH_OVERHEAD, header.sizeInBytes);
  if (compression === 0) return body;
  try {
    return codec.decompress(compression, body);
  } catch (err) {
    throw new CleanerCorruptBatchError(`${where}: batch at offset ${header.baseOffset} does not decompress: ${(err as Error).message}`);
  }
}

/**
 * Calls `fn(key, offset)` for every keyed record of a (non-control) batch, for the offset map,
 * until `fn` returns false; returns false when it did.
 */
export function forEachKeyedRecord(batch: Buffer, header: BatchHeader, codec: CleanerCodec, where: string, fn: (key: Buffer, offset: number) => boolean): boolean {
  const body = batchRecordsSection(batch, header, codec, where);
  const base = Number(header.baseOffset);
  walker.reset(body, 0, body.length, header.recordsCount);
  while (walker.next()) {
    if (walker.keyLength < 0) continue;
    if (!fn(body.subarray(walker.keyStart, walker.keyStart + walker.keyLength), base + walker.offsetDelta)) return false;
  }
  if (!walker.ok) throw new CleanerCorruptBatchError(`${where}: batch at offset ${header.baseOffset}: ${walker.failureMessage()}`);
  return true;
}

/** A control batch's record type (CONTROL_TYPE_ABORT / _COMMIT), -1 when it holds no record. */
export function controlRecordType(batch: Buffer, header: BatchHeader, codec: CleanerCodec, where: string): number {
  if (header.recordsCount === 0) return -1;
  const body = batchRecordsSection(batch, header, codec, where);
  walker.reset(body, 0, body.length, header.recordsCount);
  if (!walker.next()) throw new CleanerCorruptBatchError(`${where}: control batch at offset ${header.baseOffset}: ${walker.failureMessage()}`);
  if (walker.keyLength < 4) throw new CleanerCorruptBatchError(`${where}: control batch at offset ${header.baseOffset} has a key of ${walker.keyLength} bytes, not a control record key`);
  return body.readInt16BE(walker.keyStart + 2);
}

/**
 * Decides the fate of one stored batch (see the file comment). `batch` holds it whole;
 * `discardable` is the transaction walk's verdict on it (cleaner-txn.ts).
 */
export function filterBatch(batch: Buffer, header: BatchHeader, ctx: BatchFilterContext, discardable = false): BatchFilterResult {
  const control = (header.attributes & ATTR_CONTROL) !== 0;
  const hasHorizon = (header.attributes & ATTR_DELETE_HORIZON) !== 0;
  const horizonMs = hasHorizon ? Number(header.baseTimestamp) : -1;
  const lastOffset = Number(header.baseOffset) + header.lastOffsetDelta;
  /** Every record goes: the batch too, unless it keeps its producer's state. */
  const emptied = (): BatchFilterResult => {
    if (header.producerId < 0n || !ctx.isLastBatchOfProducer(header, lastOffset)) return { kind: 'drop', records: header.recordsCount };
    if (header.recordsCount === 0) return { kind: 'keep', records: 0, tombstoneHorizonMs: -1 };
    return { kind: 'rewrite', batch: encodeFiltered(batch, header, batchRecordsSection(batch, header, ctx.codec, ctx.where), [], 0n, false, ctx), records: header.recordsCount, kept: 0, tombstoneHorizonMs: -1 };
  };
  if (control) {
    if (!discardable) return { kind: 'keep', records: header.recordsCount, tombstoneHorizonMs: -1 };
    if (header.recordsCount === 0 || (hasHorizon && ctx.nowMs >= horizonMs)) return emptied();
    if (hasHorizon) return { kind: 'keep', records: header.recordsCount, tombstoneHorizonMs: horizonMs };
    // The marker's transaction has no data left: its delete horizon starts now (rewritten below).
  } else if (discardable || header.recordsCount === 0) {
    // An aborted transaction's data; or an empty batch, left by an earlier cleaning for a producer
    // that has written since, or is gone.
    return emptied();
  }
  const body = batchRecordsSection(batch, header, ctx.codec, ctx.where);
  const base = Number(header.baseOffset);
  const kept: KeptRecord[] = [];
  let keptTombstone = control; // a marker gets its delete horizon as a kept tombstone does
  walker.reset(body, 0, body.length, header.recordsCount);
  while (walker.next()) {
    const offset = base + walker.offsetDelta;
    const tombstone = walker.valueLength < 0;
    let retain: boolean;
    if (control) {
      retain = true;
    } else if (offset >= ctx.endOffset) {
      retain = true;
    } else if (walker.keyLength < 0) {
      retain = false; // a compacted topic refuses keyless records; any left from before go
    } else {
      const latest = ctx.map.get(body.subarray(walker.keyStart, walker.keyStart + walker.keyLength));
      retain = offset >= latest && (!tombstone || !hasHorizon || ctx.nowMs < horizonMs);
    }
    if (!retain) continue;
    if (tombstone) keptTombstone = true;
    kept.push({ start: walker.recordStart, end: walker.recordEnd, timestampDeltaPos: walker.timestampDeltaPos });
  }
  if (!walker.ok) throw new CleanerCorruptBatchError(`${ctx.where}: batch at offset ${header.baseOffset}: ${walker.failureMessage()}`);
  const records = header.recordsCount;
  const setHorizon = keptTombstone && !hasHorizon;
  if (kept.length === records && !setHorizon) return { kind: 'keep', records, tombstoneHorizonMs: keptTombstone ? horizonMs : -1 };
  if (kept.length === 0) return emptied();
  const newHorizonMs = setHorizon ? Math.min(ctx.nowMs + ctx.deleteRetentionMs, Number.MAX_SAFE_INTEGER) : horizonMs;
  const shift = setHorizon ? header.baseTimestamp - BigInt(newHorizonMs) : 0n;
  const out = encodeFiltered(batch, header, body, kept, shift, setHorizon, ctx);
  return { kind: 'rewrite', batch: out, records, kept: kept.length, tombstoneHorizonMs: keptTombstone ? newHorizonMs : -1 };
}

/**
 * A new batch from `header` with the `kept` records of `body`. `timestampShift` is added to every
 * record's timestamp delta (old base timestamp - new one); with `setHorizon` the base timestamp
 * becomes the delete horizon and the attribute says so.
 */
function encodeFiltered(original: Buffer, header: BatchHeader, body: Buffer, kept: readonly KeptRecord[], timestampShift: bigint, setHorizon: boolean, ctx: BatchFilterContext): Buffer {
  const logAppendTime = (header.attributes & ATTR_TIMESTAMP_TYPE_LOG_APPEND) !== 0;
  let size = 0;
  const deltas: bigint[] = [];
  const restStarts: number[] = [];
  let maxTimestamp = -1n;
  for (const r of kept) {
    const ts = readVarlong(body, r.timestampDeltaPos, r.end);
    if (ts === null) throw new CleanerCorruptBatchError(`${ctx.where}: batch at offset ${header.baseOffset}: bad timestamp delta`);
    const delta = ts.value + timestampShift;
    const timestamp = header.baseTimestamp + ts.value;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    deltas.push(delta);
    restStarts.push(ts.next);
    if (timestampShift === 0n) size += r.end - r.start;
    else {
      const bodySize = 1 + sizeOfVarlong(delta) + (r.end - ts.next);
      size += sizeOfVarint(bodySize) + bodySize;
    }
  }
  const section = Buffer.allocUnsafe(size);
  let pos = 0;
  kept.forEach((r, i) => {
    if (timestampShift === 0n) {
      pos += body.copy(section, pos, r.start, r.end);
      return;
    }
    const rest = restStarts[i]!;
    const bodySize = 1 + sizeOfVarlong(deltas[i]!) + (r.end - rest);
    pos = writeVarint(section, pos, bodySize);
    section[pos++] = body[r.timestampDeltaPos - 1]!; // the record's attributes byte
    pos = writeVarlong(section, pos, deltas[i]!);
    pos += body.copy(section, pos, rest, r.end);
  });
  let compression = header.attributes & ATTR_COMPRESSION_MASK;
  // An empty batch is written uncompressed, as Kafka writes its empty batches.
  if (kept.length === 0) compression = 0;
  const records = compression === 0 ? section : ctx.codec.compress(compression, section);
  const out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + records.length);
  original.copy(out, 0, 0, RECORD_BATCH_OVERHEAD);
  records.copy(out, RECORD_BATCH_OVERHEAD);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  let attributes = (header.attributes & ~ATTR_COMPRESSION_MASK) | compression;
  if (setHorizon) attributes |= ATTR_DELETE_HORIZON;
  out.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  const baseTimestamp = header.baseTimestamp - timestampShift;
  out.writeBigInt64BE(baseTimestamp, BASE_TIMESTAMP_OFFSET);
  // CreateTime: the largest kept timestamp, as Kafka's builder computes; LogAppendTime keeps its own.
  if (!logAppendTime && kept.length > 0) out.writeBigInt64BE(maxTimestamp, MAX_TIMESTAMP_OFFSET);
  out.writeInt32BE(kept.length, RECORDS_COUNT_OFFSET);
  updateBatchCrc(out, 0);
  return out;
}
