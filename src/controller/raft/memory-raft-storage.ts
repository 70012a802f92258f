// In-memory storage for the KRaft core, used by the simulation and the scripted tests. It keeps
// two copies of the state: what has been written (what reads see) and what has been synced.
// Writes queue up as operations; `sync()` makes them durable; `crash(keep)` keeps the synced
// state plus the first `keep` unsynced operations — a file system that had flushed some of them
// on its own — and forgets the rest, as a power loss would.
//
// The quorum-state and snapshot files are written atomically (temp file, fsync, rename), so one
// of them is either wholly there or wholly absent; log operations are kept or lost in order
// (a later write never survives an earlier lost one, as with an append-only file).
import { assert, epochStartsAfterPrefixTruncation, type EpochStart, type LogOp, type RaftLogView, type SnapshotChunk } from './raft-log.js';
import type { ElectionState, OffsetAndEpoch, RaftBatch, SnapshotId } from './types.js';

/** A write to storage: a log operation or a new quorum-state file. */
export type StorageOp = LogOp | { readonly type: 'electionState'; readonly state: ElectionState };

/**
 * Optional digests the simulation uses to check log matching cheaply: `digest(prev, batch)` is
 * stored with each batch (a hash of the prefix ending with it); `snapshotDigest(bytes)` gives
 * the digest of the prefix a snapshot holds; `onDurable` sees every batch that becomes durable
 * (written data lost in a crash was never part of any log that anyone saw).
 */
export interface PrefixDigests {
  digest(previous: string, batch: RaftBatch): string;
  snapshotDigest(bytes: Buffer): string;
  onDurable?(batch: RaftBatch, digest: string): void;
}

const EMPTY_DIGEST = '';

interface StoredSnapshot {
  readonly id: SnapshotId;
  readonly bytes: Buffer;
}

interface PartialSnapshot {
  readonly id: SnapshotId;
  readonly size: number;
  chunks: Buffer[];
  written: number;
}

class StorageState {
  start: OffsetAndEpoch = { offset: 0, epoch: 0 };
  startDigest = EMPTY_DIGEST;
  batches: RaftBatch[] = [];
  digests: string[] = [];
  election: ElectionState | undefined;
  snapshot: StoredSnapshot | undefined;
  partial: PartialSnapshot | undefined;

  constructor(
    private readonly digests_: PrefixDigests | undefined,
    private readonly isDurable: boolean,
  ) {}

  clone(isDurable: boolean): StorageState {
    const s = new StorageState(this.digests_, isDurable);
    s.start = this.start;
    s.startDigest = this.startDigest;
    s.batches = this.batches.slice();
    s.digests = this.digests.slice();
    s.election = this.election;
    s.snapshot = this.snapshot;
    s.partial = this.partial === undefined ? undefined : { ...this.partial, chunks: this.partial.chunks.slice() };
    return s;
  }

  end(): number {
    const last = this.batches[this.batches.length - 1];
    return last === undefined ? this.start.offset : last.lastOffset + 1;
  }

  /** Index of the batch starting at `offset`, or -1. */
  indexOf(offset: number): number {
    let lo = 0;
    let hi = this.batches.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const b = this.batches[mid]!;
      if (b.baseOffset === offset) return mid;
      if (b.baseOffset < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Digest of the prefix [0, offset) when `offset` is the log start or a batch end here. */
  digestAt(offset: number): string | undefined {
    if (offset === this.start.offset) return this.startDigest;
    const i = offset === this.end() ? this.batches.length : this.indexOf(offset);
    return i > 0 ? this.digests[i - 1] : undefined;
  }

  apply(op: StorageOp): void {
    switch (op.type) {
      case 'electionState':
        this.election = op.state;
        return;
      case 'append': {
        assert(op.batch.baseOffset === this.end(), `storage append at ${op.batch.baseOffset}, end is ${this.end()}`);
        const prev = this.digests.length > 0 ? this.digests[this.digests.length - 1]! : this.startDigest;
        const digest = this.digests_ === undefined ? EMPTY_DIGEST : this.digests_.digest(prev, op.batch);
        this.batches.push(op.batch);
        this.digests.push(digest);
        if (this.isDurable) this.digests_?.onDurable?.(op.batch, digest);
        return;
      }
      case 'truncate': {
        if (op.toOffset === this.end()) return;
        const i = this.indexOf(op.toOffset);
        assert(i >= 0, `storage truncate to ${op.toOffset}: not a batch boundary`);
        this.batches.length = i;
        this.digests.length = i;
        return;
      }
      case 'truncatePrefix': {
        const to = op.snapshotId.endOffset;
        if (to <= this.start.offset) return;
        const i = to === this.end() ? this.batches.length : this.indexOf(to);
        assert(i > 0, `storage prefix truncation to ${to}: not a batch boundary`);
        this.startDigest = this.digests[i - 1]!;
        this.batches = this.batches.slice(i);
        this.digests = this.digests.slice(i);
        this.start = { offset: to, epoch: op.snapshotId.epoch };
        return;
      }
      case 'snapshotChunk': {
        if (op.position === 0) this.partial = { id: op.snapshotId, size: op.size, chunks: [], written: 0 };
        const p = this.partial;
        assert(p !== undefined && p.id.endOffset === op.snapshotId.endOffset && p.id.epoch === op.snapshotId.epoch, 'snapshot chunk without its partial snapshot');
        assert(p.written === op.position, `snapshot chunk at ${op.position}, partial snapshot has ${p.written} bytes`);
        p.chunks.push(op.bytes);
        p.written += op.bytes.length;
        return;
      }
      case 'installSnapshot': {
        const p = this.partial;
        assert(p !== undefined && p.id.endOffset === op.snapshotId.endOffset && p.id.epoch === op.snapshotId.epoch && p.written === p.size, 'installing an incomplete snapshot');
        const bytes = Buffer.concat(p.chunks);
        this.partial = undefined;
        this.snapshot = { id: op.snapshotId, bytes };
        this.batches = [];
        this.digests = [];
        this.start = { offset: op.snapshotId.endOffset, epoch: op.snapshotId.epoch };
        this.startDigest = this.digests_ === undefined ? EMPTY_DIGEST : this.digests_.snapshotDigest(bytes);
        return;
      }
    }
  }

  epochStarts(): EpochStart[] {
    const out: EpochStart[] = [];
    for (const b of this.batches) {
      const last = out[out.length - 1];
      if (last === undefined || last.epoch !== b.epoch) out.push({ epoch: b.epoch, startOffset: b.baseOffset });
    }
    return out;
  }
}

export class MemoryRaftStorage implements RaftLogView {
  private durable: StorageState;
  private current: StorageState;
  private unsynced: StorageOp[] = [];

  constructor(private readonly digests?: PrefixDigests) {
    this.durable = new StorageState(digests, true);
    this.current = new StorageState(digests, false);
  }

  // ---- RaftLogView (reads see written data, synced or not)

  logStart(): OffsetAndEpoch {
    return this.current.start;
  }

  endOffset(): number {
    return this.current.end();
  }

  epochStarts(): readonly EpochStart[] {
    return this.current.epochStarts();
  }

  read(fromOffset: number, maxBytes: number): readonly RaftBatch[] {
    const s = this.current;
    if (fromOffset === s.end()) return [];
    const i = s.indexOf(fromOffset);
    assert(i >= 0, `storage read at ${fromOffset}: not a batch boundary of [${s.start.offset}, ${s.end()})`);
    const out: RaftBatch[] = [];
    let bytes = 0;
    for (let j = i; j < s.batches.length; j++) {
      const b = s.batches[j]!;
      if (out.length > 0 && bytes + b.data.length > maxBytes) break;
      out.push(b);
      bytes += b.data.length;
    }
    return out;
  }

  latestSnapshot(): SnapshotId | undefined {
    return this.current.snapshot?.id;
  }

  readSnapshot(id: SnapshotId, position: number, maxBytes: number): SnapshotChunk | undefined {
    const snap = this.current.snapshot;
    if (snap === undefined || snap.id.endOffset !== id.endOffset || snap.id.epoch !== id.epoch) return undefined;
    return { size: snap.bytes.length, bytes: snap.bytes.subarray(position, position + maxBytes) };
  }

  // ---- writes

  /** The quorum-state as written (what a restart reads, if it was synced). */
  electionState(): ElectionState | undefined {
    return this.current.election;
  }

  /** Writes without syncing. */
  write(op: StorageOp): void {
    this.current.apply(op);
    this.unsynced.push(op);
  }

  unsyncedCount(): number {
    return this.unsynced.length;
  }

  sync(): void {
    for (const op of this.unsynced) this.durable.apply(op);
    this.unsynced = [];
  }

  /**
   * A snapshot the state machine wrote: atomically and durably, as Kafka freezes a snapshot
   * (written to a temp file, fsynced, renamed). Replaces the previous snapshot.
   */
  writeSnapshot(id: SnapshotId, bytes: Buffer): void {
    for (const s of [this.current, this.durable]) {
      if (s.snapshot === undefined || id.endOffset > s.snapshot.id.endOffset) s.snapshot = { id, bytes };
    }
  }

  /** The bytes of the latest complete snapshot, for the state machine to load. */
  snapshotBytes(id: SnapshotId): Buffer {
    const snap = this.current.snapshot;
    assert(snap !== undefined && snap.id.endOffset === id.endOffset && snap.id.epoch === id.epoch, `no snapshot ${id.endOffset}-${id.epoch}`);
    return snap.bytes;
  }

  /**
   * A crash: keeps the synced state and the first `keep` unsynced writes (clamped to what there
   * is) and loses the others. Returns how many writes were lost.
   */
  crash(keep: number): number {
    const kept = Math.max(0, Math.min(keep, this.unsynced.length));
    for (let i = 0; i < kept; i++) this.durable.apply(this.unsynced[i]!);
    const lost = this.unsynced.length - kept;
    this.unsynced = [];
    this.current = this.durable.clone(false);
    return lost;
  }

  // ---- for checks

  /** Digest of the written prefix [0, offset), when offset is the log start or a batch end. */
  digestAt(offset: number): string | undefined {
    return this.current.digestAt(offset);
  }

  /** Digest of the durable prefix [0, offset), when offset is the durable log start or a batch end. */
  durableDigestAt(offset: number): string | undefined {
    return this.durable.digestAt(offset);
  }

  durableLogStart(): number {
    return this.durable.start.offset;
  }

  durableEndOffset(): number {
    return this.durable.end();
  }

  /** Written batches, for tests. */
  batches(): readonly RaftBatch[] {
    return this.current.batches;
  }
}
