// The core's view of the metadata log: a read-only storage interface the driver implements, the
// write operations the core hands back in `Ready.logOps`, and `LocalLog`, the core's own copy of
// the log's shape (start, end, leader-epoch cache, latest snapshot) plus the batches it appended
// since the driver last took its operations.
//
// Why a copy: the core reads the log in the same input that changed it (a leader answers parked
// fetches with the batch it just appended; a follower applies the batches it just fetched) before
// the driver has written those operations. LocalLog answers every shape question itself and reads
// bytes from storage below `stableEnd` and from its pending batches above it. Invariant: after
// `takeOps()` the driver writes the operations before it gives the core its next input, so the
// storage then holds everything below `end` (checked by `assertMatches` in the simulation).
import type { OffsetAndEpoch, RaftBatch, SnapshotId } from './types.js';
import { batchSizeBytes } from './types.js';

/** First offset of an epoch in the log (one entry of Kafka's leader-epoch-checkpoint). */
export interface EpochStart {
  readonly epoch: number;
  readonly startOffset: number;
}

/** A chunk of a stored snapshot. */
export interface SnapshotChunk {
  readonly size: number;
  readonly bytes: Buffer;
}

/**
 * What the core reads from storage. Only the constructor reads the shape methods (start, end,
 * epochs, snapshot); afterwards the core asks for batch and snapshot bytes only.
 */
export interface RaftLogView {
  /** The first offset in the log and the epoch of the entry before it; {0, 0} for a new log. */
  logStart(): OffsetAndEpoch;
  /** One past the last offset. */
  endOffset(): number;
  /**
   * The leader-epoch cache of [logStart, end): one entry per epoch present, ascending, the first
   * starting at logStart (when the log is not empty).
   */
  epochStarts(): readonly EpochStart[];
  /**
   * Whole batches starting exactly at `fromOffset` (a batch boundary in [logStart, end]), in
   * order, stopping before the one that would take the total over `maxBytes` — but at least one
   * when any exists. The returned batches are shared, never mutated.
   */
  read(fromOffset: number, maxBytes: number): readonly RaftBatch[];
  /** The newest complete snapshot, if any. */
  latestSnapshot(): SnapshotId | undefined;
  /** Up to `maxBytes` of a complete snapshot from `position`; undefined when it does not exist. */
  readSnapshot(id: SnapshotId, position: number, maxBytes: number): SnapshotChunk | undefined;
}

/**
 * A write the driver performs, in order, before it sends the Ready's messages.
 * - append: add the batch at the end (its baseOffset is the current end).
 * - truncate: remove every entry at or after `toOffset` (a batch boundary, never below the
 *   high watermark).
 * - truncatePrefix: a snapshot at `snapshotId` is durable; entries below its end offset may go
 *   and the log start becomes its end offset.
 * - snapshotChunk: bytes of a snapshot being fetched from the leader, at `position` of `size`;
 *   position 0 starts a new partial snapshot (dropping any older partial one).
 * - installSnapshot: the fetched snapshot is complete: make it the latest snapshot and replace
 *   the whole log with an empty log starting at its end offset.
 */
export type LogOp =
  | { readonly type: 'append'; readonly batch: RaftBatch }
  | { readonly type: 'truncate'; readonly toOffset: number }
  | { readonly type: 'truncatePrefix'; readonly snapshotId: SnapshotId }
  | { readonly type: 'snapshotChunk'; readonly snapshotId: SnapshotId; readonly position: number; readonly size: number; readonly bytes: Buffer }
  | { readonly type: 'installSnapshot'; readonly snapshotId: SnapshotId };

/** Applies prefix truncation to a canonical epoch cache (see RaftLogView.epochStarts). */
export function epochStartsAfterPrefixTruncation(epochs: readonly EpochStart[], newStart: number, end: number): EpochStart[] {
  const out: EpochStart[] = [];
  if (newStart >= end) return out;
  for (let i = 0; i < epochs.length; i++) {
    const e = epochs[i]!;
    const nextStart = i + 1 < epochs.length ? epochs[i + 1]!.startOffset : end;
    if (nextStart <= newStart) continue;
    out.push(e.startOffset < newStart ? { epoch: e.epoch, startOffset: newStart } : e);
  }
  return out;
}

export class LocalLog {
  private start: OffsetAndEpoch;
  private end: number;
  private epochs: EpochStart[];
  private snapshot: SnapshotId | undefined;
  /** Storage content is valid below this offset; pending batches start here. */
  private stableEnd: number;
  private pending: RaftBatch[] = [];
  private ops: LogOp[] = [];

  constructor(private readonly view: RaftLogView) {
    this.start = view.logStart();
    this.end = view.endOffset();
    this.epochs = [...view.epochStarts()];
    this.snapshot = view.latestSnapshot();
    this.stableEnd = this.end;
    assert(this.start.offset <= this.end, `log start ${this.start.offset} is past log end ${this.end}`);
    if (this.snapshot !== undefined) {
      assert(
        this.snapshot.endOffset >= this.start.offset && this.snapshot.endOffset <= this.end,
        `latest snapshot ends at ${this.snapshot.endOffset}, outside the log [${this.start.offset}, ${this.end}]: storage recovery must reset the log to the snapshot`,
      );
    }
    this.checkEpochs();
  }

  endOffset(): number {
    return this.end;
  }

  startOffset(): number {
    return this.start.offset;
  }

  latestSnapshot(): SnapshotId | undefined {
    return this.snapshot;
  }

  /** Epoch of the last entry (or of the entry before the log start when the log is empty). */
  lastEpoch(): number {
    const last = this.epochs[this.epochs.length - 1];
    return last !== undefined ? last.epoch : this.start.epoch;
  }

  /** Epoch of the entry at `offset`, for offset in [logStart - 1, end - 1]. */
  epochAt(offset: number): number {
    assert(offset >= this.start.offset - 1 && offset < this.end, `epochAt(${offset}) outside [${this.start.offset - 1}, ${this.end})`);
    let epoch = this.start.epoch;
    for (const e of this.epochs) {
      if (e.startOffset > offset) break;
      epoch = e.epoch;
    }
    return epoch;
  }

  /**
   * The largest epoch <= `epoch` in this log and the offset where it ends (the start of the next
   * epoch, or the log end). Undefined when `epoch` is older than everything this log still knows
   * (it is below the epoch of the log start).
   */
  endOffsetForEpoch(epoch: number): OffsetAndEpoch | undefined {
    if (epoch < this.start.epoch) return undefined;
    let i = -1;
    for (let j = 0; j < this.epochs.length; j++) {
      if (this.epochs[j]!.epoch <= epoch) i = j;
      else break;
    }
    if (i < 0) return { epoch: this.start.epoch, offset: this.epochs[0]?.startOffset ?? this.end };
    return { epoch: this.epochs[i]!.epoch, offset: this.epochs[i + 1]?.startOffset ?? this.end };
  }

  /** Whole batches from `fromOffset`, up to `maxBytes` but at least one when any exists. */
  read(fromOffset: number, maxBytes: number): RaftBatch[] {
    assert(fromOffset >= this.start.offset && fromOffset <= this.end, `read(${fromOffset}) outside [${this.start.offset}, ${this.end}]`);
    const out: RaftBatch[] = [];
    let bytes = 0;
    let next = fromOffset;
    const take = (b: RaftBatch): boolean => {
      const size = batchSizeBytes(b);
      if (out.length > 0 && bytes + size > maxBytes) return false;
      assert(b.baseOffset === next, `storage returned batch at ${b.baseOffset}, expected ${next}`);
      out.push(b);
      bytes += size;
      next = b.lastOffset + 1;
      return true;
    };
    if (next < this.stableEnd) {
      for (const b of this.view.read(next, maxBytes)) {
        if (b.baseOffset >= this.stableEnd || !take(b)) break;
      }
      if (next < this.stableEnd) return out; // stopped by maxBytes inside storage
    }
    for (const b of this.pending) {
      if (b.baseOffset < next) continue;
      if (!take(b)) break;
    }
    return out;
  }

  append(batch: RaftBatch): void {
    assert(batch.baseOffset === this.end, `append at ${batch.baseOffset}, log end is ${this.end}`);
    assert(batch.lastOffset >= batch.baseOffset, `batch ${batch.baseOffset}..${batch.lastOffset} is empty`);
    const last = this.lastEpoch();
    assert(batch.epoch >= last, `append of epoch ${batch.epoch} after epoch ${last} at offset ${batch.baseOffset}`);
    const lastEntry = this.epochs[this.epochs.length - 1];
    if (lastEntry === undefined || lastEntry.epoch !== batch.epoch) this.epochs.push({ epoch: batch.epoch, startOffset: batch.baseOffset });
    this.pending.push(batch);
    this.end = batch.lastOffset + 1;
    this.ops.push({ type: 'append', batch });
  }

  truncateTo(offset: number): void {
    assert(offset >= this.start.offset && offset <= this.end, `truncate to ${offset} outside [${this.start.offset}, ${this.end}]`);
    if (offset === this.end) return;
    assert(!this.pending.some((b) => b.baseOffset < offset && b.lastOffset >= offset), `truncate to ${offset} splits a batch`);
    this.epochs = this.epochs.filter((e) => e.startOffset < offset);
    this.pending = this.pending.filter((b) => b.lastOffset < offset);
    this.stableEnd = Math.min(this.stableEnd, offset);
    this.end = offset;
    this.ops.push({ type: 'truncate', toOffset: offset });
  }

  /** A snapshot at `id` is durable: drop the log below its end. */
  truncatePrefix(id: SnapshotId): void {
    assert(id.endOffset <= this.end, `snapshot ${id.endOffset} is past the log end ${this.end}`);
    assert(id.endOffset === this.start.offset || this.epochAt(id.endOffset - 1) === id.epoch, `snapshot ${id.endOffset}-${id.epoch} does not match the log`);
    if (this.snapshot === undefined || id.endOffset > this.snapshot.endOffset) this.snapshot = id;
    if (id.endOffset <= this.start.offset) return;
    this.epochs = epochStartsAfterPrefixTruncation(this.epochs, id.endOffset, this.end);
    this.start = { offset: id.endOffset, epoch: id.epoch };
    this.ops.push({ type: 'truncatePrefix', snapshotId: id });
  }

  writeSnapshotChunk(id: SnapshotId, position: number, size: number, bytes: Buffer): void {
    this.ops.push({ type: 'snapshotChunk', snapshotId: id, position, size, bytes });
  }

  /** A fetched snapshot is complete: the log becomes empty at its end offset. */
  installSnapshot(id: SnapshotId): void {
    this.start = { offset: id.endOffset, epoch: id.epoch };
    this.end = id.endOffset;
    this.epochs = [];
    this.pending = [];
    this.stableEnd = id.endOffset;
    this.snapshot = id;
    this.ops.push({ type: 'installSnapshot', snapshotId: id });
  }

  /** The operations since the last call; the driver writes them before the next input. */
  takeOps(): LogOp[] {
    const ops = this.ops;
    this.ops = [];
    this.pending = [];
    this.stableEnd = this.end;
    return ops;
  }

  hasOps(): boolean {
    return this.ops.length > 0;
  }

  /** Checks that storage holds what this copy says (the driver kept its part of the contract). */
  assertMatches(view: RaftLogView): void {
    const start = view.logStart();
    assert(start.offset === this.start.offset && start.epoch === this.start.epoch, `storage log start ${start.offset}/${start.epoch}, core has ${this.start.offset}/${this.start.epoch}`);
    assert(view.endOffset() === this.end, `storage log end ${view.endOffset()}, core has ${this.end}`);
    const epochs = view.epochStarts();
    assert(
      epochs.length === this.epochs.length && epochs.every((e, i) => e.epoch === this.epochs[i]!.epoch && e.startOffset === this.epochs[i]!.startOffset),
      `storage epochs ${JSON.stringify(epochs)}, core has ${JSON.stringify(this.epochs)}`,
    );
    const snap = view.latestSnapshot();
    assert(snap?.endOffset === this.snapshot?.endOffset && snap?.epoch === this.snapshot?.epoch, `storage snapshot ${JSON.stringify(snap)}, core has ${JSON.stringify(this.snapshot)}`);
  }

  private checkEpochs(): void {
    for (let i = 0; i < this.epochs.length; i++) {
      const e = this.epochs[i]!;
      const prev = i === 0 ? undefined : this.epochs[i - 1]!;
      assert(e.startOffset >= this.start.offset && e.startOffset < this.end, `epoch ${e.epoch} starts at ${e.startOffset}, outside the log`);
      assert(prev === undefined || (e.epoch > prev.epoch && e.startOffset > prev.startOffset), `epoch cache not ascending at ${e.epoch}`);
    }
    assert(this.epochs.length > 0 || this.start.offset === this.end, 'non-empty log without epochs');
    assert(this.epochs.length === 0 || this.epochs[0]!.startOffset === this.start.offset, 'epoch cache does not start at the log start');
    assert(this.epochs.length === 0 || this.epochs[0]!.epoch >= this.start.epoch, 'epoch cache starts below the log start epoch');
  }
}

/** A broken invariant: a programmer error, never a condition to handle. */
export class RaftInvariantError extends Error {
  constructor(message: string) {
    super(`raft invariant violated: ${message}`);
    this.name = 'RaftInvariantError';
  }
}

export function assert(cond: boolean, message: string): asserts cond {
  if (!cond) throw new RaftInvariantError(message);
}
