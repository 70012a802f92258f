// Idempotent producer state of one partition: per producerId, its epoch and the metadata of its
// last 5 batches, so a retried batch is recognised as a duplicate and a gap is refused.
//
// Sequence rules (Kafka, KIP-98 / KIP-360), for appends from clients:
//   - a batch whose epoch is older than the known epoch -> INVALID_PRODUCER_EPOCH;
//   - a batch with the known epoch and the same first/last sequence as one of the last 5 -> duplicate;
//   - a batch with a newer epoch must start at sequence 0 (unless the producer is unknown);
//   - a batch with the known epoch must start at lastSeq + 1 (wrapping to 0 after Int32.MAX);
//   - a producer we know nothing of (e.g. its batches were deleted) may start at any sequence.
// Replay from the log (recovery) applies batches without checks.
//
// Transactions (KIP-98): a producer's first transactional batch opens its transaction
// (currentTxnFirstOffset); a marker (a control batch the coordinator writes, COMMIT or ABORT)
// closes it and yields a CompletedTxn. Markers are refused with INVALID_PRODUCER_EPOCH for an older
// producer epoch and TRANSACTION_COORDINATOR_FENCED for an older coordinator epoch than the entry
// holds; clients may not write control batches at all (INVALID_RECORD), and a non-transactional
// batch while the producer's transaction is open is INVALID_TXN_STATE, as Kafka answers.
// The open transactions are also kept in `ongoing`, in order of their first offset (Map
// insertion order: transactions open at increasing offsets, and snapshots are loaded sorted), so
// the first unstable offset, which bounds the last stable offset, is its first entry.
//
// Persistence: `<offset>.snapshot` files hold the state as of that offset (all batches below it
// applied). Format (big-endian): magic u32 'TPSS', version i16, crc32c u32 of everything after it,
// count i32, then per producer: id i64, epoch i16, coordinatorEpoch i32, currentTxnFirstOffset i64,
// lastTimestamp i64, batchCount i8, then per batch firstSeq i32, lastSeq i32, firstOffset i64,
// lastOffset i64, timestamp i64.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loggerFor } from '../logger.js';
import { crc32c } from '../protocol/records/crc32c.js';
import type { DeferredSync } from './deferred-sync.js';
import { InvalidProducerEpochError, InvalidRecordError, InvalidTxnStateError, OutOfOrderSequenceError, TransactionCoordinatorFencedError } from './errors.js';
import { SNAPSHOT_SUFFIX, TMP_SUFFIX, offsetFileStem, offsetFromFileName } from './files.js';

export const MAX_BATCHES_PER_PRODUCER = 5;
const INT32_MAX = 0x7fffffff;
const SNAPSHOT_MAGIC = 0x54505353; // 'TPSS'
const SNAPSHOT_VERSION = 1;
const SNAPSHOTS_KEPT = 3;
const NO_EPOCH = -1;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  /** The batch's maxTimestamp as stored (log append time when the topic uses it). */
  timestamp: number;
}

export interface ProducerEntry {
  producerId: bigint;
  epoch: number;
  /** Oldest first, at most MAX_BATCHES_PER_PRODUCER. */
  batches: BatchMetadata[];
  lastTimestamp: number;
  coordinatorEpoch: number;
  /** First offset of the open transaction, -1 when none. */
  currentTxnFirstOffset: number;
}

/** A transaction marker to append: what WriteTxnMarkers carries for one partition. */
export interface TxnMarkerAppend {
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  /** COMMIT (true) or ABORT (false). */
  committed: boolean;
}

/** A transaction a marker closed: its data lies in [firstOffset, lastOffset), the marker at lastOffset. */
export interface CompletedTxn {
  producerId: bigint;
  firstOffset: number;
  /** The marker's offset. */
  lastOffset: number;
  aborted: boolean;
}

/** The producer fields of one batch header. */
export interface ProducerBatch {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  /** Records in the batch minus one (the header's lastOffsetDelta). */
  lastOffsetDelta: number;
  isTransactional: boolean;
  isControl: boolean;
}

/**
 * The last stable offset: the high watermark, or the first offset of the oldest open transaction
 * when lower, but never below the log start offset (Kafka's maybeIncrementFirstUnstableOffset).
 */
export function lastStableOffset(firstUnstableOffset: number | null, highWatermark: number, logStartOffset: number): number {
  return firstUnstableOffset === null ? highWatermark : Math.min(Math.max(firstUnstableOffset, logStartOffset), highWatermark);
}

/** Last sequence of a batch, wrapping past Int32.MAX as producers do. */
export function lastSequence(baseSequence: number, lastOffsetDelta: number): number {
  return baseSequence > INT32_MAX - lastOffsetDelta ? lastOffsetDelta - (INT32_MAX - baseSequence) - 1 : baseSequence + lastOffsetDelta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

function cloneEntry(e: ProducerEntry): ProducerEntry {
  return { ...e, batches: e.batches.map((b) => ({ ...b })) };
}

/** A marker's effect on an entry (Kafka's ProducerStateEntry.update): a newer epoch drops the batches. */
function applyMarker(entry: ProducerEntry, producerEpoch: number, coordinatorEpoch: number, timestamp: number): void {
  if (producerEpoch !== entry.epoch) {
    entry.epoch = producerEpoch;
    entry.batches = [];
  }
  entry.coordinatorEpoch = coordinatorEpoch;
  entry.lastTimestamp = timestamp;
  entry.currentTxnFirstOffset = -1;
}

function addBatch(entry: ProducerEntry, meta: BatchMetadata): void {
  entry.batches.push(meta);
  if (entry.batches.length > MAX_BATCHES_PER_PRODUCER) entry.batches.shift();
}

/**
 * Staged producer changes of one append: validated batch by batch before anything is written,
 * committed to the manager only after the write succeeded.
 */
export class ProducerAppend {
  private readonly staged = new Map<bigint, ProducerEntry>();

  constructor(private readonly manager: ProducerStateManager, private readonly where: string) {}

  /**
   * Checks one client batch at the offsets it would get; throws a typed error when refused.
   * Duplicates must be looked for first with ProducerStateManager.findDuplicate.
   */
  stage(batch: ProducerBatch, firstOffset: number, lastOffset: number, timestamp: number): void {
    const { producerId, producerEpoch } = batch;
    const current = this.staged.get(producerId) ?? this.manager.entry(producerId);
    const firstSeq = batch.baseSequence;
    // As Kafka's LogValidator: markers come from transaction coordinators (stageMarker) only.
    if (batch.isControl) throw new InvalidRecordError(`Clients are not allowed to write control records in topic partition ${this.where}.`);
    if (producerEpoch < 0) throw new InvalidRecordError(`${this.where}: idempotent batch from producer ${producerId} has epoch ${producerEpoch}`);
    if (firstSeq < 0) throw new InvalidRecordError(`${this.where}: idempotent batch from producer ${producerId} has sequence ${firstSeq}`);
    const knownEpoch = current === undefined ? NO_EPOCH : current.epoch;
    if (knownEpoch !== NO_EPOCH && producerEpoch < knownEpoch) {
      throw new InvalidProducerEpochError(`${this.where}: producer ${producerId} epoch ${producerEpoch} is older than ${knownEpoch}`);
    }
    if (producerEpoch !== knownEpoch) {
      if (firstSeq !== 0 && knownEpoch !== NO_EPOCH) {
        throw new OutOfOrderSequenceError(`${this.where}: producer ${producerId} new epoch ${producerEpoch} must start at sequence 0, got ${firstSeq}`);
      }
    } else {
      const last = current!.batches[current!.batches.length - 1];
      const lastSeq = last === undefined ? -1 : last.lastSeq;
      if (!inSequence(lastSeq, firstSeq)) {
        throw new OutOfOrderSequenceError(`${this.where}: producer ${producerId} epoch ${producerEpoch}: sequence ${firstSeq} at offset ${firstOffset} does not follow ${lastSeq}`);
      }
    }
    const entry = current === undefined ? this.newEntry(producerId) : cloneEntry(current);
    if (entry.epoch !== producerEpoch) {
      entry.epoch = producerEpoch;
      entry.batches = [];
    }
    if (entry.currentTxnFirstOffset >= 0 && !batch.isTransactional) {
      throw new InvalidTxnStateError(`${this.where}: expected a transactional write from producer ${producerId} at offset ${firstOffset}: its transaction is open`);
    }
    addBatch(entry, { firstSeq, lastSeq: lastSequence(firstSeq, batch.lastOffsetDelta), firstOffset, lastOffset, timestamp });
    entry.lastTimestamp = timestamp;
    if (batch.isTransactional && entry.currentTxnFirstOffset < 0) entry.currentTxnFirstOffset = firstOffset;
    this.staged.set(producerId, entry);
  }

  /**
   * Checks a transaction marker at `offset` as Kafka's ProducerAppendInfo.appendEndTxnMarker
   * does; throws InvalidProducerEpochError / TransactionCoordinatorFencedError when refused.
   * Returns the transaction it closes, or null when the producer had none open here (a marker for
   * a partition that got no data: nothing changes for the LSO or the aborted index).
   */
  stageMarker(marker: TxnMarkerAppend, offset: number, timestamp: number): CompletedTxn | null {
    const { producerId, producerEpoch, coordinatorEpoch } = marker;
    const current = this.staged.get(producerId) ?? this.manager.entry(producerId);
    const entry = current === undefined ? this.newEntry(producerId) : cloneEntry(current);
    if (producerEpoch < entry.epoch) {
      throw new InvalidProducerEpochError(`${this.where}: marker of producer ${producerId} at offset ${offset} has epoch ${producerEpoch}, older than the last seen epoch ${entry.epoch}`);
    }
    if (coordinatorEpoch < entry.coordinatorEpoch) {
      throw new TransactionCoordinatorFencedError(
        `Invalid coordinator epoch for producerId ${producerId} at offset ${offset} in partition ${this.where}: ${coordinatorEpoch} (zombie), ${entry.coordinatorEpoch} (current)`,
      );
    }
    const completed = entry.currentTxnFirstOffset >= 0 ? { producerId, firstOffset: entry.currentTxnFirstOffset, lastOffset: offset, aborted: !marker.committed } : null;
    applyMarker(entry, producerEpoch, coordinatorEpoch, timestamp);
    this.staged.set(producerId, entry);
    return completed;
  }

  /** Applies the staged entries; call only after the batches are in the log. */
  commit(nextOffset: number): void {
    this.manager.applyEntries(this.staged.values(), nextOffset);
  }

  private newEntry(producerId: bigint): ProducerEntry {
    return { producerId, epoch: NO_EPOCH, batches: [], lastTimestamp: -1, coordinatorEpoch: -1, currentTxnFirstOffset: -1 };
  }
}

export class ProducerStateManager {
  private producers = new Map<bigint, ProducerEntry>();
  /** Open transactions: producerId -> first offset, oldest first (see the header). */
  private ongoing = new Map<bigint, number>();
  /** State reflects every batch below this offset. */
  private mapEnd = 0;
  /** The snapshot last read or written (its offset and bytes): takeSnapshot() skips rewriting an
   *  identical one, so a shutdown without new data does no fsync per partition for it. */
  private lastSnapshot: { offset: number; bytes: Buffer } | null = null;

  /** `dir` null: state lives in memory only (MemoryPartitionLog); snapshots are no-ops. */
  constructor(readonly dir: string | null, private readonly where: string) {}

  get mapEndOffset(): number {
    return this.mapEnd;
  }

  get size(): number {
    return this.producers.size;
  }

  entry(producerId: bigint): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  allEntries(): IterableIterator<ProducerEntry> {
    return this.producers.values();
  }

  /** First offset of the oldest open transaction, or null when none is open. */
  get firstUnstableOffset(): number | null {
    const first = this.ongoing.values().next();
    return first.done === true ? null : first.value;
  }

  /** Open transactions, oldest first: producerId -> first offset. */
  ongoingTxns(): ReadonlyMap<bigint, number> {
    return this.ongoing;
  }

  /**
   * The last stable offset once `completed` is closed (for its aborted-index entry): the first
   * offset of the oldest other open transaction, else the offset after the marker.
   */
  lastStableOffsetAfter(completed: CompletedTxn): number {
    for (const [pid, first] of this.ongoing) if (pid !== completed.producerId) return Math.min(first, completed.lastOffset + 1);
    return completed.lastOffset + 1;
  }

  /** Keeps `ongoing` in step with an entry whose currentTxnFirstOffset may have changed. */
  private trackTxn(producerId: bigint, before: number, after: number): void {
    if (before === after) return;
    if (before >= 0) this.ongoing.delete(producerId);
    if (after >= 0) this.ongoing.set(producerId, after);
  }

  private rebuildOngoing(): void {
    this.ongoing = new Map(
      [...this.producers.values()].filter((e) => e.currentTxnFirstOffset >= 0).sort((a, b) => a.currentTxnFirstOffset - b.currentTxnFirstOffset).map((e) => [e.producerId, e.currentTxnFirstOffset]),
    );
  }

  beginAppend(): ProducerAppend {
    return new ProducerAppend(this, this.where);
  }

  /** The stored batch a client retry duplicates, or null. */
  findDuplicate(batch: ProducerBatch): BatchMetadata | null {
    const entry = this.producers.get(batch.producerId);
    if (entry === undefined || entry.epoch !== batch.producerEpoch) return null;
    const lastSeq = lastSequence(batch.baseSequence, batch.lastOffsetDelta);
    return entry.batches.find((b) => b.firstSeq === batch.baseSequence && b.lastSeq === lastSeq) ?? null;
  }

  /** Internal to ProducerAppend.commit. */
  applyEntries(entries: Iterable<ProducerEntry>, nextOffset: number): void {
    for (const e of entries) {
      this.trackTxn(e.producerId, this.producers.get(e.producerId)?.currentTxnFirstOffset ?? -1, e.currentTxnFirstOffset);
      this.producers.set(e.producerId, e);
    }
    this.mapEnd = nextOffset;
  }

  /**
   * Applies a batch read back from the log (recovery / truncation replay), without checks.
   * `marker`: what a control batch's record says (null for data batches, or a control batch whose
   * record could not be read: it still closes the transaction, as a COMMIT). Returns the
   * transaction a marker closed, for the aborted index.
   */
  replay(batch: ProducerBatch, firstOffset: number, lastOffset: number, timestamp: number, marker: { committed: boolean; coordinatorEpoch: number } | null = null): CompletedTxn | null {
    let completed: CompletedTxn | null = null;
    if (batch.producerId >= 0n) {
      let entry = this.producers.get(batch.producerId);
      if (entry === undefined) {
        entry = { producerId: batch.producerId, epoch: batch.producerEpoch, batches: [], lastTimestamp: -1, coordinatorEpoch: -1, currentTxnFirstOffset: -1 };
        this.producers.set(batch.producerId, entry);
      }
      if (batch.producerEpoch > entry.epoch) {
        entry.epoch = batch.producerEpoch;
        entry.batches = [];
      }
      const before = entry.currentTxnFirstOffset;
      if (batch.isControl) {
        if (before >= 0) completed = { producerId: batch.producerId, firstOffset: before, lastOffset, aborted: marker !== null && !marker.committed };
        applyMarker(entry, entry.epoch, marker === null ? entry.coordinatorEpoch : Math.max(entry.coordinatorEpoch, marker.coordinatorEpoch), timestamp);
      } else if (batch.baseSequence >= 0) {
        addBatch(entry, { firstSeq: batch.baseSequence, lastSeq: lastSequence(batch.baseSequence, batch.lastOffsetDelta), firstOffset, lastOffset, timestamp });
        entry.lastTimestamp = timestamp;
        if (batch.isTransactional && entry.currentTxnFirstOffset < 0) entry.currentTxnFirstOffset = firstOffset;
      }
      this.trackTxn(batch.producerId, before, entry.currentTxnFirstOffset);
    }
    this.mapEnd = lastOffset + 1;
    return completed;
  }

  /** Every batch below `offset` is reflected here (after a follower append replayed its batches). */
  advanceTo(offset: number): void {
    if (offset > this.mapEnd) this.mapEnd = offset;
  }

  /** Forgets producers idle for `expirationMs` (by their last batch timestamp), unless in a transaction. */
  removeExpiredProducers(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [id, e] of this.producers) {
      if (e.currentTxnFirstOffset < 0 && nowMs - e.lastTimestamp >= expirationMs) {
        this.producers.delete(id);
        removed++;
      }
    }
    return removed;
  }

  // ---- snapshots

  snapshotOffsets(): number[] {
    const out: number[] = [];
    if (this.dir === null) return out;
    for (const name of fs.readdirSync(this.dir)) {
      const offset = offsetFromFileName(name, SNAPSHOT_SUFFIX);
      if (offset !== null) out.push(offset);
    }
    return out.sort((a, b) => a - b);
  }

  /**
   * Writes `<mapEndOffset>.snapshot` (temp file, fsync, rename) and prunes old snapshots; with
   * `deferred` (a clean shutdown), the file is written by it, together with other partitions'.
   */
  takeSnapshot(deferred?: DeferredSync): void {
    if (this.dir === null) return;
    const file = path.join(this.dir, offsetFileStem(this.mapEnd) + SNAPSHOT_SUFFIX);
    const bytes = this.encodeSnapshot();
    if (this.lastSnapshot !== null && this.lastSnapshot.offset === this.mapEnd && this.lastSnapshot.bytes.equals(bytes) && fs.existsSync(file)) return;
    const tmp = file + TMP_SUFFIX;
    this.lastSnapshot = { offset: this.mapEnd, bytes };
    if (deferred !== undefined) return deferred.writeAtomically(file, tmp, bytes, () => this.pruneSnapshots());
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    this.pruneSnapshots();
  }

  private pruneSnapshots(): void {
    const offsets = this.snapshotOffsets();
    for (const o of offsets.slice(0, Math.max(0, offsets.length - SNAPSHOTS_KEPT))) this.deleteSnapshot(o);
  }

  /** Drops snapshots below `offset`, always keeping the newest one. */
  deleteSnapshotsBefore(offset: number): void {
    const offsets = this.snapshotOffsets();
    for (const o of offsets.slice(0, -1)) if (o < offset) this.deleteSnapshot(o);
  }

  /**
   * Loads the newest valid snapshot at or below `logEndOffset` (newer ones are stale after a
   * truncation and are deleted). Returns the offset replay must start from: the snapshot's offset,
   * or `logStartOffset` when there is none.
   */
  loadLatestSnapshot(logEndOffset: number, logStartOffset: number): number {
    this.producers = new Map();
    this.ongoing = new Map();
    this.mapEnd = logStartOffset;
    const offsets = this.snapshotOffsets();
    for (let i = offsets.length - 1; i >= 0; i--) {
      const offset = offsets[i]!;
      if (offset > logEndOffset) {
        this.deleteSnapshot(offset);
        continue;
      }
      const bytes = fs.readFileSync(path.join(this.dir!, offsetFileStem(offset) + SNAPSHOT_SUFFIX));
      const decoded = this.decodeSnapshot(bytes);
      if (decoded === null) {
        // Damaged: producer state is derived from the log, so fall back to an older snapshot (or
        // the log start) and replay the batch headers after it.
        loggerFor('storage').warn({ partition: this.where, snapshot: path.join(this.dir!, offsetFileStem(offset) + SNAPSHOT_SUFFIX) }, 'producer state snapshot is damaged; rebuilding it from the log');
        this.deleteSnapshot(offset);
        continue;
      }
      this.producers = decoded;
      this.rebuildOngoing();
      this.mapEnd = Math.max(offset, logStartOffset);
      this.lastSnapshot = { offset, bytes };
      return this.mapEnd;
    }
    return this.mapEnd;
  }

  /** Forgets everything (the log was emptied) and starts at `offset`. */
  reset(offset: number): void {
    this.producers = new Map();
    this.ongoing = new Map();
    this.mapEnd = offset;
    for (const o of this.snapshotOffsets()) this.deleteSnapshot(o);
  }

  private deleteSnapshot(offset: number): void {
    if (this.dir === null) return;
    fs.rmSync(path.join(this.dir, offsetFileStem(offset) + SNAPSHOT_SUFFIX), { force: true });
  }

  private encodeSnapshot(): Buffer {
    let size = 4 + 2 + 4 + 4;
    for (const e of this.producers.values()) size += 8 + 2 + 4 + 8 + 8 + 1 + e.batches.length * (4 + 4 + 8 + 8 + 8);
    const buf = Buffer.alloc(size);
    buf.writeUInt32BE(SNAPSHOT_MAGIC, 0);
    buf.writeInt16BE(SNAPSHOT_VERSION, 4);
    let p = 10;
    buf.writeInt32BE(this.producers.size, p);
    p += 4;
    for (const e of this.producers.values()) {
      buf.writeBigInt64BE(e.producerId, p);
      buf.writeInt16BE(e.epoch, p + 8);
      buf.writeInt32BE(e.coordinatorEpoch, p + 10);
      buf.writeBigInt64BE(BigInt(e.currentTxnFirstOffset), p + 14);
      buf.writeBigInt64BE(BigInt(e.lastTimestamp), p + 22);
      buf.writeInt8(e.batches.length, p + 30);
      p += 31;
      for (const b of e.batches) {
        buf.writeInt32BE(b.firstSeq, p);
        buf.writeInt32BE(b.lastSeq, p + 4);
        buf.writeBigInt64BE(BigInt(b.firstOffset), p + 8);
        buf.writeBigInt64BE(BigInt(b.lastOffset), p + 16);
        buf.writeBigInt64BE(BigInt(b.timestamp), p + 24);
        p += 32;
      }
    }
    buf.writeUInt32BE(crc32c(buf.subarray(10)), 6);
    return buf;
  }

  private decodeSnapshot(buf: Buffer): Map<bigint, ProducerEntry> | null {
    if (buf.length < 14 || buf.readUInt32BE(0) !== SNAPSHOT_MAGIC || buf.readInt16BE(4) !== SNAPSHOT_VERSION) return null;
    if (buf.readUInt32BE(6) !== crc32c(buf.subarray(10))) return null;
    const out = new Map<bigint, ProducerEntry>();
    try {
      const count = buf.readInt32BE(10);
      let p = 14;
      for (let i = 0; i < count; i++) {
        const entry: ProducerEntry = {
          producerId: buf.readBigInt64BE(p),
          epoch: buf.readInt16BE(p + 8),
          coordinatorEpoch: buf.readInt32BE(p + 10),
          currentTxnFirstOffset: Number(buf.readBigInt64BE(p + 14)),
          lastTimestamp: Number(buf.readBigInt64BE(p + 22)),
          batches: [],
        };
        const n = buf.readInt8(p + 30);
        p += 31;
        for (let j = 0; j < n; j++) {
          entry.batches.push({
            firstSeq: buf.readInt32BE(p),
            lastSeq: buf.readInt32BE(p + 4),
            firstOffset: Number(buf.readBigInt64BE(p + 8)),
            lastOffset: Number(buf.readBigInt64BE(p + 16)),
            timestamp: Number(buf.readBigInt64BE(p + 24)),
          });
          p += 32;
        }
        out.set(entry.producerId, entry);
      }
      if (p !== buf.length) return null;
    } catch {
      return null; // RangeError: a length field lied; the CRC should have caught it
    }
    return out;
  }
}
