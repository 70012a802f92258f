// The metadata log: KRaft metadata records framed as Kafka frames them (frame version, record
// type and record version as unsigned varints, then the record) and stored as the values of
// record batches in the `__cluster_metadata-0` partition. With a single voter a record is
// committed once its batch is durably appended; the cluster work extends this with Raft.
//
// One change (one append) is atomic. When its records do not fit in one batch (the store's batch
// limit, or Kafka's 10,000 records per batch) they are split across batches and wrapped in a
// KIP-868 metadata transaction: BeginTransactionRecord first, EndTransactionRecord last. Replay
// applies a transaction's records only when its EndTransactionRecord is read, drops an aborted
// one, and ignores one left unfinished at the log's end (a crash between its batches); the next
// append then first writes an AbortTransactionRecord, so that later records are not read as part
// of the unfinished transaction (Kafka's controller does the same on failover).
import { Reader, Writer } from '../protocol/codec/index.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { metadataRecordByType } from '../protocol/messages/index.js';
import { RECORD_BATCH_OVERHEAD } from '../protocol/records/batch-header.js';
import { decodeRecordBatch, encodeRecordBatch, type DecodedBatch } from '../protocol/records/record-batch.js';
import { readUnsignedVarint } from '../protocol/varint.js';
import { StorageStartupError } from '../storage/errors.js';
import type { MetadataRecord } from '../metadata/records.js';

export { METADATA_TOPIC } from '../metadata/topic-names.js';
const FRAME_VERSION = 1;

/** Kafka's QuorumController.MAX_RECORDS_PER_BATCH. */
export const MAX_RECORDS_PER_BATCH = 10_000;
/** Upper bound of the bytes a record adds to a batch besides its value (varint lengths and deltas,
 * attributes, null key, no headers). */
const RECORD_OVERHEAD_BYTES = 16;
/** Room kept in a transaction's first and last batch for its marker (a short name at most). */
const MARKER_BYTES = RECORD_OVERHEAD_BYTES + 64;
/** Records encoded per step of MetadataLog.prepare, and per batch it builds (one batch a step). */
const ENCODE_SLICE_RECORDS = 1000;
const SLICED_BATCH_RECORDS = 2000;

/** A change encoded into batches by MetadataLog.prepare, for appendPrepared. */
export interface PreparedAppend {
  readonly batches: readonly Buffer[];
  readonly timestamp: bigint;
}

function encodeBatch(values: readonly Buffer[], timestamp: bigint): Buffer {
  return encodeRecordBatch({ records: values.map((value) => ({ key: null, value, timestamp })) });
}

/** KIP-868 metadata transaction markers (record types). */
export const TransactionRecordType = { Begin: 23, End: 24, Abort: 25 } as const;

/** Where the metadata log's batches live; appends must be durable when they return. */
export interface MetadataLogStore {
  /** Appends batches in order (a crash may leave any prefix of them; one flush at the end);
   * returns the log end offset after them. */
  append(batches: readonly Buffer[]): number;
  /** Every stored batch from the start, in order. */
  readAll(): Iterable<Buffer>;
  /** The largest batch (header included) append accepts, in bytes. */
  readonly maxBatchBytes: number;
  /** The first offset readAll() returns and one past the last: when known, a replay must cover
   *  them all. */
  readonly startOffset?: number;
  readonly endOffset?: number;
  /** Where `offset` is stored (file and byte position), for a message about damage there. */
  locate?(offset: number): { file: string; position: number | null } | null;
}

/** A decoded frame: a metadata record, or one of the transaction markers. */
type Frame = MetadataRecord | { type: 23 | 24 | 25; version: number; data: { name?: string | null; reason?: string | null } };

function encodeFrame(type: number, version: number, data: unknown): Buffer {
  const desc = metadataRecordByType(type);
  if (desc === undefined) throw new Error(`unknown metadata record type ${type}`);
  const w = new Writer(64);
  w.uvarint(FRAME_VERSION);
  w.uvarint(type);
  w.uvarint(version);
  desc.codec.encode(w, version, data as never);
  return w.toBuffer();
}

export function encodeMetadataRecord(record: MetadataRecord): Buffer {
  return encodeFrame(record.type, record.version, record.data);
}

/** Records per batch of a metadata snapshot (Kafka's snapshot writer also cuts its batches). */
const SNAPSHOT_RECORDS_PER_BATCH = 1000;

/** A snapshot's records encoded batch by batch: a caller may let the event loop run between two. */
export function* encodeSnapshotBatches(records: readonly MetadataRecord[]): Generator<Buffer[]> {
  for (let i = 0; i < records.length; i += SNAPSHOT_RECORDS_PER_BATCH) yield records.slice(i, i + SNAPSHOT_RECORDS_PER_BATCH).map(encodeMetadataRecord);
}

function decodeFrame(value: Buffer): Frame {
  let pos = 0;
  const fields: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = readUnsignedVarint(value, pos);
    if (r === null) throw new Error('truncated metadata record frame');
    fields.push(r.value);
    pos = r.next;
  }
  const [frameVersion, type, version] = fields as [number, number, number];
  if (frameVersion !== FRAME_VERSION) throw new Error(`unsupported metadata record frame version ${frameVersion}`);
  const desc = metadataRecordByType(type);
  if (desc === undefined) throw new Error(`unknown metadata record type ${type}`);
  const data = desc.codec.decode(new Reader(value, pos), version);
  return { type, version, data } as Frame;
}

export function decodeMetadataRecord(value: Buffer): MetadataRecord {
  const frame = decodeFrame(value);
  if (isTransactionMarker(frame)) throw new Error(`record type ${frame.type} is a transaction marker, not a metadata record`);
  return frame;
}

/** The metadata record a record value holds, or null for a transaction marker. */
export function decodeMetadataRecordValue(value: Buffer): MetadataRecord | null {
  const frame = decodeFrame(value);
  return isTransactionMarker(frame) ? null : frame;
}

function isTransactionMarker(frame: Frame): frame is Extract<Frame, { type: 23 | 24 | 25 }> {
  return frame.type === TransactionRecordType.Begin || frame.type === TransactionRecordType.End || frame.type === TransactionRecordType.Abort;
}

/** How a replay ended. */
export interface MetadataReplayEnd {
  /** Records applied (transaction markers and dropped records not counted). */
  applied: number;
  /** A transaction was begun and neither ended nor aborted before the log's end. */
  unfinishedTransaction: boolean;
  /** Offset of the last record in the log (-1 when empty): the epoch of the replayed image. */
  lastOffset: bigint;
}

export class MetadataLog {
  /** A BeginTransactionRecord was written (or replayed) whose End or Abort is not in the log. */
  private transactionOpen = false;

  constructor(
    private readonly store: MetadataLogStore,
    /** Sees every committed record replay() applies; the broker learns from it which topic ids were removed. */
    private readonly onReplayed: (record: MetadataRecord) => void = () => {},
  ) {}

  /**
   * Appends records atomically: all or none are replayed after a crash. Throws a KafkaError
   * (POLICY_VIOLATION) before writing anything when one record alone cannot fit in a batch.
   */
  append(records: readonly MetadataRecord[], timestampMs: number): bigint {
    if (records.length === 0) throw new Error('metadata log: an append needs at least one record');
    const steps = this.encodeSteps(records, timestampMs, MAX_RECORDS_PER_BATCH);
    let step = steps.next();
    while (step.done !== true) step = steps.next();
    return this.appendPrepared(step.value);
  }

  /**
   * Encodes records into batches for appendPrepared, in steps of at most ENCODE_SLICE_RECORDS
   * records or one SLICED_BATCH_RECORDS batch, awaiting `pause` between two: the encoding of a
   * large change does not hold up the event loop. Nothing is written; the same error as append.
   */
  async prepare(records: readonly MetadataRecord[], timestampMs: number, pause: () => Promise<void>): Promise<PreparedAppend> {
    const steps = this.encodeSteps(records, timestampMs, SLICED_BATCH_RECORDS);
    for (;;) {
      const step = steps.next();
      if (step.done === true) return step.value;
      await pause();
    }
  }

  /** Writes what prepare encoded, atomically (see append). */
  appendPrepared(prepared: PreparedAppend): bigint {
    if (prepared.batches.length === 0) throw new Error('metadata log: an append needs at least one batch');
    const batches = [...prepared.batches];
    if (this.transactionOpen) batches.unshift(encodeBatch([encodeFrame(TransactionRecordType.Abort, 0, { reason: 'unfinished transaction (interrupted write)' })], prepared.timestamp));
    for (const batch of batches) {
      if (batch.length > this.store.maxBatchBytes) throw new Error(`metadata log: split produced a batch of ${batch.length} bytes, above ${this.store.maxBatchBytes}`);
    }
    // From the first batch of a transaction on, a failure leaves it open: the next append aborts it.
    this.transactionOpen = this.transactionOpen || prepared.batches.length > 1;
    const end = this.store.append(batches);
    this.transactionOpen = false;
    return BigInt(end - 1);
  }

  /** Encodes `records` into batches, yielding after each slice of work. */
  private *encodeSteps(records: readonly MetadataRecord[], timestampMs: number, maxBatchRecords: number): Generator<void, PreparedAppend> {
    const timestamp = BigInt(timestampMs);
    const maxBatchBytes = this.store.maxBatchBytes;
    const values: Buffer[] = [];
    for (const r of records) {
      const v = encodeMetadataRecord(r);
      if (RECORD_BATCH_OVERHEAD + 2 * MARKER_BYTES + RECORD_OVERHEAD_BYTES + v.length > maxBatchBytes) {
        throw new KafkaError(
          ErrorCode.POLICY_VIOLATION,
          `A metadata record of ${v.length} bytes does not fit in a metadata log batch of at most ${maxBatchBytes} bytes.`,
        );
      }
      values.push(v);
      if (values.length % ENCODE_SLICE_RECORDS === 0) yield;
    }
    let groups = splitIntoBatches(values, maxBatchBytes, false, maxBatchRecords);
    if (groups.length > 1) {
      groups = splitIntoBatches(values, maxBatchBytes, true, maxBatchRecords);
      groups[0]!.unshift(encodeFrame(TransactionRecordType.Begin, 0, { name: `${records.length} records in ${groups.length} batches` }));
      groups[groups.length - 1]!.push(encodeFrame(TransactionRecordType.End, 0, {}));
    }
    const batches: Buffer[] = [];
    for (const group of groups) {
      batches.push(encodeBatch(group, timestamp));
      yield;
    }
    return { batches, timestamp };
  }

  /** Calls `apply` with every committed record, in order; see the file comment for transactions. */
  replay(apply: (record: MetadataRecord, offset: bigint) => void): MetadataReplayEnd {
    let applied = 0;
    let pending: { record: MetadataRecord; offset: bigint }[] | null = null;
    const commit = (r: MetadataRecord, offset: bigint) => {
      this.onReplayed(r);
      apply(r, offset);
      applied++;
    };
    let next = this.store.startOffset ?? 0;
    for (const chunk of this.store.readAll()) {
      let pos = 0;
      while (pos < chunk.length) {
        let batch: DecodedBatch;
        try {
          batch = decodeRecordBatch(chunk, pos);
        } catch (err) {
          throw this.damaged(next, `the record batch does not decode: ${(err as Error).message}`);
        }
        for (const rec of batch.records) {
          if (rec.value === null) continue;
          let frame: Frame;
          try {
            frame = decodeFrame(rec.value);
          } catch (err) {
            throw this.damaged(Number(rec.offset), `the metadata record does not decode: ${(err as Error).message}`);
          }
          if (!isTransactionMarker(frame)) {
            if (pending !== null) pending.push({ record: frame, offset: rec.offset });
            else commit(frame, rec.offset);
            continue;
          }
          if (frame.type === TransactionRecordType.Begin) {
            if (pending !== null) throw this.damaged(Number(rec.offset), 'a BeginTransactionRecord inside a transaction');
            pending = [];
          } else if (pending === null && frame.type === TransactionRecordType.Abort) {
            // Written after a failed append whose transaction may not have begun: nothing to abort.
          } else if (pending === null) {
            throw this.damaged(Number(rec.offset), 'an EndTransactionRecord outside a transaction');
          } else {
            if (frame.type === TransactionRecordType.End) for (const r of pending) commit(r.record, r.offset);
            pending = null;
          }
        }
        pos += batch.header.sizeInBytes;
        next = Number(batch.header.baseOffset) + batch.header.lastOffsetDelta + 1;
      }
    }
    if (this.store.endOffset !== undefined && next < this.store.endOffset) {
      throw this.damaged(next, `no readable record batch holds offset ${next}, below the log end offset ${this.store.endOffset}`);
    }
    this.transactionOpen = pending !== null;
    return { applied, unfinishedTransaction: pending !== null, lastOffset: BigInt(next - 1) };
  }

  private damaged(offset: number, reason: string): StorageStartupError {
    const at = this.store.locate?.(offset) ?? null;
    const where = at === null ? `offset ${offset}` : `${at.file}${at.position === null ? '' : ` at position ${at.position}`} (offset ${offset})`;
    return new StorageStartupError(
      `The metadata log is damaged: ${where}: ${reason}. Refusing to start: the metadata log says which topics exist, ` +
        'and a broker that replayed only part of it would serve the wrong ones.',
      at?.file ?? '',
    );
  }

}

/**
 * Groups encoded records into batches within `maxBatchBytes` and `maxBatchRecords`; with
 * `roomForMarkers`, room is left for a transaction marker in the first and the last batch.
 */
function splitIntoBatches(values: readonly Buffer[], maxBatchBytes: number, roomForMarkers: boolean, maxBatchRecords: number): Buffer[][] {
  const markerBytes = roomForMarkers ? MARKER_BYTES : 0;
  const maxRecords = roomForMarkers ? maxBatchRecords - 2 : maxBatchRecords;
  const batches: Buffer[][] = [];
  let current: Buffer[] = [];
  let bytes = RECORD_BATCH_OVERHEAD + 2 * markerBytes;
  for (const v of values) {
    const size = RECORD_OVERHEAD_BYTES + v.length;
    if (current.length > 0 && (bytes + size > maxBatchBytes || current.length >= maxRecords)) {
      batches.push(current);
      current = [];
      bytes = RECORD_BATCH_OVERHEAD + 2 * markerBytes;
    }
    current.push(v);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
