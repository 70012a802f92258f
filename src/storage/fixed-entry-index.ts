// Common part of the offset and time indexes: a file of fixed-size entries sorted by key, mirrored
// in memory. The active segment's index file is preallocated to segment.index.bytes (as Kafka
// does, so "index full" is a roll condition) and trimmed to its entries when the segment becomes
// inactive or is closed. Inactive indexes are read once, lazily, and need no open descriptor.
//
// Owned by one LogSegment; all calls are synchronous (no await between a check and its write).
import * as fs from 'node:fs';
import type { DeferredSync } from './deferred-sync.js';

export abstract class FixedEntryIndex {
  private memory: Buffer = Buffer.alloc(0);
  private count = 0;
  private loaded = false;
  private fd: number | null = null;
  private appendable = false;
  readonly maxEntries: number;

  protected constructor(
    readonly path: string,
    readonly baseOffset: number,
    readonly entrySize: number,
    maxIndexBytes: number,
  ) {
    this.maxEntries = Math.max(1, Math.floor(maxIndexBytes / entrySize));
  }

  get entries(): number {
    this.ensureLoaded();
    return this.count;
  }

  /** One slot stays in reserve for the time index's final entry at roll (see TimeIndex). */
  isFull(): boolean {
    return this.entries >= Math.max(1, this.maxEntries - 1);
  }

  /**
   * Marks the index appendable. The file is opened (and preallocated) on the first write, so a
   * broker with many idle partitions does not hold two descriptors per partition.
   */
  openForAppend(): void {
    this.ensureLoaded();
    this.appendable = true;
  }

  /**
   * Trims the file to its entries and drops the descriptor: the segment is no longer active.
   * With `deferred` (a clean shutdown), the fsync and close are handed to it.
   */
  closeForAppend(deferred?: DeferredSync): void {
    this.appendable = false;
    if (this.fd === null) return;
    fs.ftruncateSync(this.fd, this.count * this.entrySize);
    if (deferred !== undefined) deferred.fsyncAndClose(this.fd, this.path);
    else {
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
    }
    this.fd = null;
  }

  flush(): void {
    if (this.fd !== null) fs.fsyncSync(this.fd);
  }

  /** Removes every entry; used before a rebuild. */
  reset(): void {
    this.loaded = true;
    this.count = 0;
    if (this.fd !== null) {
      fs.ftruncateSync(this.fd, 0);
      fs.ftruncateSync(this.fd, this.maxEntries * this.entrySize);
    } else if (fs.existsSync(this.path)) {
      fs.truncateSync(this.path, 0);
    }
  }

  delete(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
    fs.rmSync(this.path, { force: true });
    this.count = 0;
  }

  renameTo(path: string): void {
    fs.renameSync(this.path, path);
    (this as { path: string }).path = path;
  }

  /** Size the index takes on disk once trimmed. */
  sizeInBytes(): number {
    return this.entries * this.entrySize;
  }

  // ---- for subclasses

  protected entryAt(i: number): number {
    return i * this.entrySize;
  }

  protected get buffer(): Buffer {
    this.ensureLoaded();
    return this.memory;
  }

  protected appendEntry(entry: Buffer): void {
    this.ensureLoaded();
    if (this.count >= this.maxEntries) throw new Error(`index ${this.path} is full (${this.count} entries)`);
    const at = this.count * this.entrySize;
    this.openFileIfAppendable();
    if (at + this.entrySize > this.memory.length) {
      const grown = Buffer.alloc(Math.max(this.entrySize * 64, this.memory.length * 2));
      this.memory.copy(grown, 0, 0, at);
      this.memory = grown;
    }
    entry.copy(this.memory, at);
    if (this.fd !== null) fs.writeSync(this.fd, entry, 0, this.entrySize, at);
    this.count++;
  }

  protected truncateToEntries(n: number): void {
    this.ensureLoaded();
    if (n >= this.count) return;
    this.count = n;
    this.openFileIfAppendable();
    if (this.fd !== null) {
      // Zero the dropped tail so a later crash cannot resurrect stale entries.
      const zeros = Buffer.alloc((this.maxEntries - n) * this.entrySize);
      fs.writeSync(this.fd, zeros, 0, zeros.length, n * this.entrySize);
    } else if (fs.existsSync(this.path)) {
      fs.truncateSync(this.path, n * this.entrySize);
    }
  }

  /** Largest i whose key <= target, or -1; keys are non-decreasing. */
  protected floorIndex(target: number, keyAt: (i: number) => number): number {
    let lo = 0;
    let hi = this.entries - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (keyAt(mid) <= target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * How many leading entries of a freshly read file are valid. A file that was preallocated and
   * never trimmed (crash) has a zero tail; entries must be strictly increasing to count.
   */
  protected abstract validPrefix(buf: Buffer, entries: number): number;

  private openFileIfAppendable(): void {
    if (this.fd !== null || !this.appendable) return;
    this.fd = fs.openSync(this.path, fs.existsSync(this.path) ? 'r+' : 'w+');
    fs.ftruncateSync(this.fd, this.maxEntries * this.entrySize);
  }

  private ensureLoaded(): void {
    if (this.loaded) return;
    this.loaded = true;
    if (!fs.existsSync(this.path)) return;
    const data = fs.readFileSync(this.path);
    const fileEntries = Math.floor(data.length / this.entrySize);
    this.count = this.validPrefix(data, fileEntries);
    this.memory = Buffer.alloc(Math.max(this.entrySize * 64, this.count * this.entrySize));
    data.copy(this.memory, 0, 0, this.count * this.entrySize);
  }
}
