// The KRaft core's storage on disk: the `__cluster_metadata-0` partition log (a PartitionStore,
// normally the PartitionLog the LogManager opened), and, in that partition's directory as Kafka
// keeps them, the `quorum-state` file and the `<endOffset>-<epoch>.checkpoint` snapshots.
//
// It implements the core's RaftLogView and the writes of `Ready` (see raft-node.ts, contract 2a/b):
//  - `writeElectionState` replaces quorum-state atomically and durably (temp, fsync, rename, fsync
//    of the directory), as Kafka's FileQuorumStateStore does;
//  - `applyLogOp` performs one log operation; `sync()` makes the log durable (one fsync of the
//    active segment, plus a partial snapshot being fetched);
//  - `writeSnapshot` freezes a snapshot the state machine produced (`.checkpoint.part`, fsync,
//    rename, fsync of the directory).
//
// Shape kept in memory (start, epoch cache, snapshots): the core reads it only when a RaftNode
// is built; reads of batches go to the store. Invariants: `epochs` is the canonical epoch cache
// of [start, end) (RaftLogView.epochStarts); every snapshot listed is complete on disk; the
// latest snapshot, when there is one, ends in [start, end].
//
// Recovery (`open`): the PartitionLog has already cut a torn tail. Then the log start is aligned
// to the latest snapshot: a crash may leave segments below it (the start offset checkpoint is
// written lazily) or, during a snapshot install, a stale log that the snapshot replaces; either
// way the snapshot wins and the log is cut to begin where it ends. Without a snapshot the log must
// begin at 0. Leftover `.checkpoint.part` files (an interrupted snapshot write or fetch) go.
//
// Threading: every method is synchronous and called from the driver's serial queue only.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsyncDir, writeFileAtomically } from '../../storage/checkpoint.js';
import { StorageStartupError } from '../../storage/errors.js';
import type { PartitionStore } from '../../storage/partition-store.js';
import { readWholeLog } from '../../storage/read-whole-log.js';
import { decodeQuorumStateFile, encodeQuorumStateFile, QUORUM_STATE_FILE } from './quorum-state-file.js';
import { raftBatchBytes, raftBatchesFromBytes } from './raft-batch-codec.js';
import { assert, epochStartsAfterPrefixTruncation, type EpochStart, type LogOp, type RaftLogView, type SnapshotChunk } from './raft-log.js';
import { parseSnapshotFileName, PARTIAL_SNAPSHOT_SUFFIX, snapshotFileName } from './snapshot-file.js';
import type { ElectionState, OffsetAndEpoch, RaftBatch, SnapshotId } from './types.js';

/** Bytes read from the store per step of the start-up scan of batch headers. */
const SCAN_READ_BYTES = 4 * 1024 * 1024;
/** The largest snapshot a follower accepts from a leader (Kafka has no limit; we need one). */
export const MAX_SNAPSHOT_BYTES = 4 * 1024 * 1024 * 1024;

/** The partition log operations the metadata log needs (PartitionLog has them all). */
export type MetadataPartitionStore = PartitionStore & { truncateFullyAndStartAt(offset: number): void };

export interface DiskRaftStorageOptions {
  /** The `__cluster_metadata-0` directory: quorum-state and snapshots live here. */
  readonly dir: string;
  /** The partition log of `__cluster_metadata-0`, already open (and recovered). */
  readonly store: MetadataPartitionStore;
  /** The static voters, written into quorum-state's currentVoters as Kafka does. */
  readonly voters: readonly number[];
}

interface PartialSnapshot {
  readonly id: SnapshotId;
  readonly size: number;
  readonly file: string;
  readonly fd: number;
  written: number;
}

export class DiskRaftStorage implements RaftLogView {
  private start: OffsetAndEpoch = { offset: 0, epoch: 0 };
  private epochs: EpochStart[] = [];
  /** Complete snapshots on disk, ascending by end offset. */
  private snapshots: SnapshotId[] = [];
  private election: ElectionState | undefined;
  private partial: PartialSnapshot | undefined;
  private readonly quorumStateFile: string;

  private constructor(
    private readonly dir: string,
    private readonly store: MetadataPartitionStore,
    private readonly voters: readonly number[],
  ) {
    this.quorumStateFile = path.join(dir, QUORUM_STATE_FILE);
  }

  /** Opens (and recovers) the storage; see the header for what recovery does. */
  static open(opts: DiskRaftStorageOptions): DiskRaftStorage {
    fs.mkdirSync(opts.dir, { recursive: true });
    const s = new DiskRaftStorage(opts.dir, opts.store, opts.voters);
    s.recover();
    return s;
  }

  private recover(): void {
    this.snapshots = listSnapshotFiles(this.dir).snapshots;
    if (fs.existsSync(this.quorumStateFile)) this.election = decodeQuorumStateFile(fs.readFileSync(this.quorumStateFile, 'utf8'), this.quorumStateFile);

    const store = this.store;
    const latest = this.latestSnapshot();
    if (latest === undefined) {
      if (store.logStartOffset !== 0) {
        throw new StorageStartupError(`${this.dir}: the metadata log starts at offset ${store.logStartOffset} but there is no snapshot below it`, this.dir);
      }
      this.epochs = this.scanEpochs();
    } else {
      if (store.logStartOffset > latest.endOffset) {
        throw new StorageStartupError(`${this.dir}: the metadata log starts at offset ${store.logStartOffset}, past its latest snapshot ${snapshotFileName(latest)}`, this.dir);
      }
      let epochs = this.scanEpochs();
      // The snapshot is committed state, so a log that holds its last entry holds it with the
      // same epoch (log matching); a log that does not is stale and the snapshot replaces it.
      const keep = store.logEndOffset >= latest.endOffset && (latest.endOffset === store.logStartOffset || epochAtIn(epochs, latest.endOffset - 1) === latest.epoch);
      if (keep) {
        if (store.logStartOffset < latest.endOffset) {
          store.highWatermark = store.logEndOffset;
          store.deleteRecordsBefore(latest.endOffset);
        }
        epochs = epochStartsAfterPrefixTruncation(epochs, latest.endOffset, store.logEndOffset);
      } else {
        store.truncateFullyAndStartAt(latest.endOffset);
        epochs = [];
      }
      assert(store.logStartOffset === latest.endOffset, `${this.dir}: log start ${store.logStartOffset} after aligning to the snapshot at ${latest.endOffset}`);
      this.start = { offset: latest.endOffset, epoch: latest.epoch };
      this.epochs = epochs;
      this.deleteSnapshotsBelow(latest.endOffset);
    }
  }

  /** The epoch cache of the store's whole log, from the batch headers. */
  private scanEpochs(): EpochStart[] {
    const out: EpochStart[] = [];
    let last = -1;
    for (const chunk of readWholeLog(this.store, SCAN_READ_BYTES)) {
      for (const b of raftBatchesFromBytes(chunk, this.dir, false)) {
        assert(b.epoch >= last, `${this.dir}: batch at ${b.baseOffset} has epoch ${b.epoch} after epoch ${last}`);
        if (b.epoch !== last) out.push({ epoch: b.epoch, startOffset: b.baseOffset });
        last = b.epoch;
      }
    }
    return out;
  }

  // ---- RaftLogView

  logStart(): OffsetAndEpoch {
    return this.start;
  }

  endOffset(): number {
    return this.store.logEndOffset;
  }

  epochStarts(): readonly EpochStart[] {
    return this.epochs;
  }

  read(fromOffset: number, maxBytes: number): readonly RaftBatch[] {
    const end = this.store.logEndOffset;
    if (fromOffset >= end) return [];
    const r = this.store.read(fromOffset, Math.max(1, maxBytes), end, true);
    const batches = raftBatchesFromBytes(r.records, this.dir, false);
    assert(batches.length === 0 || batches[0]!.baseOffset === fromOffset, `${this.dir}: read at ${fromOffset} returned a batch at ${batches[0]?.baseOffset}: not a batch boundary`);
    return batches;
  }

  latestSnapshot(): SnapshotId | undefined {
    return this.snapshots[this.snapshots.length - 1];
  }

  readSnapshot(id: SnapshotId, position: number, maxBytes: number): SnapshotChunk | undefined {
    if (!this.snapshots.some((s) => s.endOffset === id.endOffset && s.epoch === id.epoch)) return undefined;
    const file = path.join(this.dir, snapshotFileName(id));
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return undefined; // deleted by a newer snapshot meanwhile
    }
    try {
      const size = fs.fstatSync(fd).size;
      const n = Math.max(0, Math.min(maxBytes, size - position));
      const bytes = Buffer.allocUnsafe(n);
      let read = 0;
      while (read < n) {
        const got = fs.readSync(fd, bytes, read, n - read, position + read);
        if (got === 0) break;
        read += got;
      }
      return { size, bytes: bytes.subarray(0, read) };
    } finally {
      fs.closeSync(fd);
    }
  }

  // ---- writes (contract 2a/b)

  /** The recovered (or last written) quorum-state; undefined for a new replica. */
  electionState(): ElectionState | undefined {
    return this.election;
  }

  /** Durable when it returns (the file is replaced atomically). */
  writeElectionState(state: ElectionState): void {
    writeFileAtomically(this.quorumStateFile, encodeQuorumStateFile(state, this.voters));
    this.election = state;
  }

  /** One log operation; durable after the next `sync()`. */
  applyLogOp(op: LogOp): void {
    const store = this.store;
    switch (op.type) {
      case 'append': {
        const b = op.batch;
        assert(b.baseOffset === store.logEndOffset, `${this.dir}: append at ${b.baseOffset}, log end is ${store.logEndOffset}`);
        const lastEpoch = this.epochs[this.epochs.length - 1]?.epoch ?? this.start.epoch;
        assert(b.epoch >= lastEpoch, `${this.dir}: append of epoch ${b.epoch} after epoch ${lastEpoch}`);
        const result = store.append(raftBatchBytes(b), { leaderEpoch: b.epoch, assignOffsets: true });
        assert(result.firstOffset === b.baseOffset && result.lastOffset === b.lastOffset, `${this.dir}: batch ${b.baseOffset}..${b.lastOffset} stored at ${result.firstOffset}..${result.lastOffset}`);
        if (lastEpoch !== b.epoch || this.epochs.length === 0) this.epochs.push({ epoch: b.epoch, startOffset: b.baseOffset });
        return;
      }
      case 'truncate': {
        if (op.toOffset >= store.logEndOffset) return;
        assert(op.toOffset >= this.start.offset, `${this.dir}: truncate to ${op.toOffset}, below the log start ${this.start.offset}`);
        store.truncateTo(op.toOffset);
        this.epochs = this.epochs.filter((e) => e.startOffset < op.toOffset);
        return;
      }
      case 'truncatePrefix': {
        const to = op.snapshotId.endOffset;
        if (to <= this.start.offset) return;
        assert(this.snapshots.some((s) => s.endOffset === to && s.epoch === op.snapshotId.epoch), `${this.dir}: prefix truncation to ${to} without its snapshot on disk`);
        store.highWatermark = store.logEndOffset;
        store.deleteRecordsBefore(to);
        this.epochs = epochStartsAfterPrefixTruncation(this.epochs, to, store.logEndOffset);
        this.start = { offset: to, epoch: op.snapshotId.epoch };
        this.deleteSnapshotsBelow(to);
        return;
      }
      case 'snapshotChunk': {
        if (op.position === 0) {
          this.dropPartial();
          assert(op.size >= 0 && op.size <= MAX_SNAPSHOT_BYTES, `${this.dir}: snapshot of ${op.size} bytes (limit ${MAX_SNAPSHOT_BYTES})`);
          const file = path.join(this.dir, snapshotFileName(op.snapshotId) + '.part');
          this.partial = { id: op.snapshotId, size: op.size, file, fd: fs.openSync(file, 'w'), written: 0 };
        }
        const p = this.partial;
        assert(p !== undefined && sameId(p.id, op.snapshotId) && p.written === op.position, `${this.dir}: snapshot chunk at ${op.position} of ${op.snapshotId.endOffset}-${op.snapshotId.epoch} without its partial snapshot`);
        assert(p.written + op.bytes.length <= p.size, `${this.dir}: snapshot chunk past the snapshot's size ${p.size}`);
        let done = 0;
        while (done < op.bytes.length) done += fs.writeSync(p.fd, op.bytes, done, op.bytes.length - done, p.written + done);
        p.written += op.bytes.length;
        return;
      }
      case 'installSnapshot': {
        const p = this.partial;
        assert(p !== undefined && sameId(p.id, op.snapshotId) && p.written === p.size, `${this.dir}: installing an incomplete snapshot ${op.snapshotId.endOffset}-${op.snapshotId.epoch}`);
        fs.fsyncSync(p.fd);
        fs.closeSync(p.fd);
        this.partial = undefined;
        // The snapshot first: a crash before the log is replaced leaves a stale log that
        // recovery replaces with it (see the header).
        fs.renameSync(p.file, path.join(this.dir, snapshotFileName(op.snapshotId)));
        fsyncDir(this.dir);
        this.addSnapshot(op.snapshotId);
        store.truncateFullyAndStartAt(op.snapshotId.endOffset);
        assert(store.logStartOffset === op.snapshotId.endOffset && store.logEndOffset === op.snapshotId.endOffset, `${this.dir}: the log did not restart at ${op.snapshotId.endOffset}`);
        this.epochs = [];
        this.start = { offset: op.snapshotId.endOffset, epoch: op.snapshotId.epoch };
        this.deleteSnapshotsBelow(op.snapshotId.endOffset);
        return;
      }
    }
  }

  /** Makes every log operation so far durable. */
  sync(): void {
    this.store.flush();
    if (this.partial !== undefined) fs.fsyncSync(this.partial.fd);
  }

  /**
   * A snapshot of the state machine (the `.checkpoint` bytes), durable and complete when it
   * returns; the log below it goes when the core says so (LogOp truncatePrefix).
   */
  writeSnapshot(id: SnapshotId, bytes: Buffer): void {
    assert(id.endOffset >= this.start.offset && id.endOffset <= this.store.logEndOffset, `${this.dir}: snapshot at ${id.endOffset} outside the log [${this.start.offset}, ${this.store.logEndOffset}]`);
    writeSnapshotFile(this.dir, id, bytes);
    this.addSnapshot(id);
  }

  /** The bytes of a complete snapshot, for the state machine to load. */
  snapshotBytes(id: SnapshotId): Buffer {
    assert(this.snapshots.some((s) => sameId(s, id)), `${this.dir}: no snapshot ${snapshotFileName(id)}`);
    return fs.readFileSync(path.join(this.dir, snapshotFileName(id)));
  }

  /** Closes the partial snapshot being fetched, if any (the store is its owner's to close). */
  close(): void {
    this.dropPartial();
  }

  private addSnapshot(id: SnapshotId): void {
    if (this.snapshots.some((s) => sameId(s, id))) return;
    this.snapshots.push(id);
    this.snapshots.sort((a, b) => a.endOffset - b.endOffset);
  }

  /** Snapshots below the log start can serve nobody (a fetcher below it gets the latest). */
  private deleteSnapshotsBelow(offset: number): void {
    this.snapshots = deleteSnapshotFilesBelow(this.dir, this.snapshots, offset);
  }

  private dropPartial(): void {
    const p = this.partial;
    if (p === undefined) return;
    this.partial = undefined;
    fs.closeSync(p.fd);
    fs.rmSync(p.file, { force: true });
  }
}

function sameId(a: SnapshotId, b: SnapshotId): boolean {
  return a.endOffset === b.endOffset && a.epoch === b.epoch;
}

/** Epoch of the entry at `offset` in a canonical epoch cache (offset inside the log). */
function epochAtIn(epochs: readonly EpochStart[], offset: number): number | undefined {
  let epoch: number | undefined;
  for (const e of epochs) {
    if (e.startOffset > offset) break;
    epoch = e.epoch;
  }
  return epoch;
}

/**
 * The complete snapshots in a metadata partition directory, ascending by end offset. Leftover
 * `.checkpoint.part` files (a write or fetch cut short) are deleted and named in `removedPartial`.
 */
export function listSnapshotFiles(dir: string): { snapshots: SnapshotId[]; removedPartial: string[] } {
  const snapshots: SnapshotId[] = [];
  const removedPartial: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (name.endsWith(PARTIAL_SNAPSHOT_SUFFIX)) {
      fs.rmSync(path.join(dir, name), { force: true });
      removedPartial.push(name);
    }
    const id = parseSnapshotFileName(name);
    if (id !== undefined) snapshots.push(id);
  }
  snapshots.sort((a, b) => a.endOffset - b.endOffset);
  return { snapshots, removedPartial };
}

/** Writes a `.checkpoint` file durably and atomically: `.checkpoint.part`, fsync, rename, fsync of the directory. */
export function writeSnapshotFile(dir: string, id: SnapshotId, bytes: Buffer): void {
  const file = path.join(dir, snapshotFileName(id));
  const part = file + '.part';
  const fd = fs.openSync(part, 'w');
  try {
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, done);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(part, file);
  fsyncDir(dir);
}

/** Deletes the snapshot files of `snapshots` that end below `offset`; returns the others. */
export function deleteSnapshotFilesBelow(dir: string, snapshots: readonly SnapshotId[], offset: number): SnapshotId[] {
  const keep: SnapshotId[] = [];
  for (const s of snapshots) {
    if (s.endOffset < offset) fs.rmSync(path.join(dir, snapshotFileName(s)), { force: true });
    else keep.push(s);
  }
  return keep;
}
