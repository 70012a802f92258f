// Metadata snapshots of a single voter (broker and controller in one process, LocalMetadataLogClient),
// with the quorum's format and files: `<endOffset>-<epoch>.checkpoint` in `__cluster_metadata-0`
// (epoch 0: a single voter's batches carry leader epoch 0), written by writeSnapshotFile and read
// by decodeSnapshot, due as the Raft core decides it (snapshotDue).
//
// Writing: once due, the committed image as records (MetadataController.snapshotRecords), encoded
// a batch at a time with the event loop free between two; then the log's whole segments below
// the snapshot go (the log start moves to its end offset) and so do older snapshots.
//
// Start-up (open): the latest snapshot that decodes and that the log continues (its end offset at
// or past the log start) is loaded, and the log is replayed from its end. A damaged one is skipped
// with a warning for an older one, or for the whole log when it still starts at 0; when nothing
// covers the state below the log start, start-up stops naming the directory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../logger.js';
import type { MetadataRecord } from '../metadata/records.js';
import { StorageStartupError } from '../storage/errors.js';
import { decodeMetadataRecord, encodeSnapshotBatches } from './metadata-log.js';
import { deleteSnapshotFilesBelow, listSnapshotFiles, writeSnapshotFile } from './raft/disk-raft-storage.js';
import { snapshotDue } from './raft/quorum-config.js';
import { decodeSnapshot, encodeSnapshot, snapshotFileName } from './raft/snapshot-file.js';
import type { SnapshotId } from './raft/types.js';

/** A single voter's leader epoch (its metadata batches carry 0). */
const SINGLE_VOTER_EPOCH = 0;

/** The metadata partition log operations the snapshotter needs (PartitionLog has them). */
export interface SnapshotLogStore {
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly sizeInBytes: number;
  highWatermark: number;
  deleteRecordsBefore(offset: number): number;
  truncateFullyAndStartAt(offset: number): void;
}

export interface SingleVoterSnapshotOptions {
  /** The `__cluster_metadata-0` directory. */
  readonly dir: string;
  readonly store: SnapshotLogStore;
  readonly log: Logger;
  /** metadata.log.max.record.bytes.between.snapshots and metadata.log.max.snapshot.interval.ms. */
  readonly snapshotMinBytes: number;
  readonly snapshotIntervalMs: number;
  readonly nowMs: () => number;
}

export class SingleVoterSnapshots {
  private snapshots: SnapshotId[];
  private bytesSinceSnapshot = 0;
  private lastSnapshotMs: number;
  private lastAppendMs = 0;
  private writing = false;
  /** The snapshot loaded at start-up: its records come before the log's. */
  private loaded: { id: SnapshotId; records: MetadataRecord[] } | null;

  private constructor(private readonly opts: SingleVoterSnapshotOptions, snapshots: SnapshotId[], loaded: { id: SnapshotId; records: MetadataRecord[] } | null) {
    this.snapshots = snapshots;
    this.loaded = loaded;
    this.lastSnapshotMs = opts.nowMs();
    // Records past the latest snapshot count towards the next one, replayed or not (as Kafka's
    // snapshot generator counts what it applies at start-up): the segments' size, an upper bound.
    if (opts.store.logEndOffset > opts.store.logStartOffset) this.bytesSinceSnapshot = opts.store.sizeInBytes;
  }

  /** Picks the snapshot to start from and aligns the log start to it; see the header. */
  static open(opts: SingleVoterSnapshotOptions): SingleVoterSnapshots {
    const { dir, store, log } = opts;
    fs.mkdirSync(dir, { recursive: true });
    const { snapshots, removedPartial } = listSnapshotFiles(dir);
    for (const name of removedPartial) log.warn({ dir, file: name }, 'deleted an incomplete metadata snapshot (a write cut short)');
    let loaded: { id: SnapshotId; records: MetadataRecord[] } | null = null;
    const skipped: string[] = [];
    for (const id of [...snapshots].reverse()) {
      const name = snapshotFileName(id);
      if (id.endOffset < store.logStartOffset) {
        skipped.push(`${name} (ends below the log start ${store.logStartOffset})`);
        continue;
      }
      try {
        const bytes = fs.readFileSync(path.join(dir, name));
        const decoded = decodeSnapshot(bytes, name);
        loaded = { id, records: decoded.records.map(decodeMetadataRecord) };
        log.info({ endOffset: id.endOffset, epoch: id.epoch, records: loaded.records.length, bytes: bytes.length, dir }, 'loading a metadata snapshot');
        break;
      } catch (err) {
        skipped.push(`${name} (${(err as Error).message})`);
        log.warn({ dir, file: name, error: (err as Error).message }, 'skipping a damaged metadata snapshot');
      }
    }
    if (loaded === null) {
      if (store.logStartOffset !== 0) {
        throw new StorageStartupError(
          `${dir}: the metadata log starts at offset ${store.logStartOffset} and no readable snapshot covers the metadata below it` +
            `${skipped.length > 0 ? ` (${skipped.join('; ')})` : ''}. Refusing to start: a broker without that metadata would serve the wrong topics.`,
          dir,
        );
      }
      if (skipped.length > 0) log.warn({ dir, skipped }, 'replaying the whole metadata log: no snapshot could be loaded');
    } else {
      const end = loaded.id.endOffset;
      // A crash between the snapshot's rename and the deletion below leaves segments it covers.
      if (store.logEndOffset < end) store.truncateFullyAndStartAt(end);
      else if (store.logStartOffset < end) {
        store.highWatermark = store.logEndOffset;
        store.deleteRecordsBefore(end);
      }
    }
    return new SingleVoterSnapshots(opts, snapshots, loaded);
  }

  /** The loaded snapshot's records (once: they are replayed at start-up), or none. */
  takeLoadedRecords(): MetadataRecord[] {
    const records = this.loaded?.records ?? [];
    this.loaded = null;
    return records;
  }

  /** Bytes of record batches durably appended to the metadata log. */
  noteAppended(bytes: number): void {
    this.bytesSinceSnapshot += bytes;
    this.lastAppendMs = this.opts.nowMs();
  }

  /**
   * Writes a snapshot of `image()` when one is due (and none is being written); resolves once it
   * is durable and the log below it deleted, or at once when none is due.
   */
  async maybeSnapshot(image: () => { records: MetadataRecord[]; offset: bigint }, pause: () => Promise<void>): Promise<SnapshotId | null> {
    const now = this.opts.nowMs();
    if (this.writing || !snapshotDue(this.opts, this.bytesSinceSnapshot, this.lastSnapshotMs, now)) return null;
    const { records, offset } = image();
    const id: SnapshotId = { endOffset: Number(offset) + 1, epoch: SINGLE_VOTER_EPOCH };
    if (id.endOffset <= (this.snapshots[this.snapshots.length - 1]?.endOffset ?? 0)) return null;
    this.writing = true;
    this.bytesSinceSnapshot = 0;
    this.lastSnapshotMs = now;
    try {
      const batches: Buffer[][] = [];
      for (const batch of encodeSnapshotBatches(records)) {
        batches.push(batch);
        await pause();
      }
      const bytes = encodeSnapshot({ id, lastContainedLogTimestampMs: this.lastAppendMs, timestampMs: this.opts.nowMs(), batches });
      writeSnapshotFile(this.opts.dir, id, bytes);
      this.snapshots.push(id);
      this.opts.log.info({ endOffset: id.endOffset, epoch: id.epoch, records: records.length, bytes: bytes.length, dir: this.opts.dir }, 'wrote a metadata snapshot');
      // The log from the snapshot on is kept (Kafka's log start follows its latest snapshot).
      const store = this.opts.store;
      store.highWatermark = store.logEndOffset;
      store.deleteRecordsBefore(id.endOffset);
      this.snapshots = deleteSnapshotFilesBelow(this.opts.dir, this.snapshots, id.endOffset);
      return id;
    } finally {
      this.writing = false;
    }
  }
}
