// The aborted-transaction index of one segment, `<base>.txnindex`, in Kafka's on-disk format:
// entries of 34 bytes (big-endian) version int16 (0), producerId int64, firstOffset int64,
// lastOffset int64, lastStableOffset int64, one per transaction an ABORT marker in this segment
// closed, in marker (lastOffset) order. firstOffset may lie in an earlier segment.
// lastStableOffset is the partition's LSO once that transaction was closed: every transaction
// still open then started at or after it, so a reader collecting entries for offsets below some
// bound may stop at the first entry whose lastStableOffset reaches that bound (as Kafka's
// TransactionIndex.collectAbortedTxns).
//
// The index is derived data: recovery rebuilds what replay covers (see PartitionLog), a torn
// last entry is dropped. The file exists only once an entry is written (as in Kafka, it is created
// lazily), and is read on first use, so opening a partition with many segments reads none of them.
// Entries are kept in memory once read; appends go to the file at once and are fsynced with the
// segment (flush / deactivate).
import * as fs from 'node:fs';
import type { DeferredSync } from './deferred-sync.js';
import { invariant } from './errors.js';

export const TXN_INDEX_ENTRY_BYTES = 34;
/** The only entry version Kafka has written (AbortedTxn.CURRENT_VERSION). */
export const TXN_INDEX_VERSION = 0;

export interface AbortedTxn {
  producerId: bigint;
  firstOffset: number;
  /** The ABORT marker's offset. */
  lastOffset: number;
  lastStableOffset: number;
}

export class TransactionIndex {
  private loaded: AbortedTxn[] | null = null;
  private dirty = false;
  /** The next write replaces whatever file is there (a new segment's index, see startEmpty). */
  private replaceFile = false;

  constructor(private file: string) {}

  /** For a new segment: no entries, and the first append replaces a stale file of that name. */
  startEmpty(): void {
    this.loaded = [];
    this.replaceFile = true;
  }

  get path(): string {
    return this.file;
  }

  /** Entries in marker order. The caller must not change the array. */
  entries(): readonly AbortedTxn[] {
    return this.load();
  }

  get isEmpty(): boolean {
    return this.load().length === 0;
  }

  /** Adds an entry; its marker must come after every entry's already there. */
  append(txn: AbortedTxn): void {
    const entries = this.load();
    const last = entries[entries.length - 1];
    invariant(last === undefined || txn.lastOffset > last.lastOffset, `${this.file}: aborted transaction ending at ${txn.lastOffset} does not follow the one ending at ${last?.lastOffset}`);
    fs.writeFileSync(this.file, encodeEntry(txn), { flag: this.replaceFile ? 'w' : 'a' });
    this.replaceFile = false;
    entries.push(txn);
    this.dirty = true;
  }

  /**
   * Adds `txn` unless an entry for its marker is there already (recovery replay re-adds only
   * what a crash lost); one that belongs before later entries rewrites the file in order.
   */
  ensure(txn: AbortedTxn): void {
    const entries = this.load();
    const at = findFirstEndingAtOrAfter(entries, txn.lastOffset);
    if (entries[at]?.lastOffset === txn.lastOffset) return;
    if (at === entries.length) return this.append(txn);
    this.writeAll([...entries.slice(0, at), txn, ...entries.slice(at)]);
  }

  /** Drops the entries whose marker is at or past `offset`. */
  truncateTo(offset: number): void {
    const entries = this.load();
    const keep = findFirstEndingAtOrAfter(entries, offset);
    if (keep === entries.length) return;
    this.replaceFile = false;
    entries.length = keep;
    if (keep === 0) fs.rmSync(this.file, { force: true });
    else fs.truncateSync(this.file, keep * TXN_INDEX_ENTRY_BYTES);
    this.dirty = keep > 0;
  }

  /**
   * Adds to `out` the entries with lastOffset >= fetchOffset and firstOffset < upperBoundOffset.
   * Returns true when no later entry (here or in a later segment) can qualify.
   */
  collect(fetchOffset: number, upperBoundOffset: number, out: AbortedTxn[]): boolean {
    return collectAbortedTxns(this.load(), fetchOffset, upperBoundOffset, out);
  }

  /** Writes all `entries` to the file at once (the cleaner's new segment), fsynced. */
  writeAll(entries: readonly AbortedTxn[]): void {
    const bytes = Buffer.concat(entries.map(encodeEntry));
    const fd = fs.openSync(this.file, 'w');
    try {
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    this.loaded = [...entries];
    this.dirty = false;
    this.replaceFile = false;
  }

  flush(deferred?: DeferredSync): void {
    if (!this.dirty) return;
    this.dirty = false;
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r+');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (deferred !== undefined) return deferred.fsyncAndClose(fd, this.file);
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  renameTo(file: string): void {
    if (this.replaceFile && this.loaded!.length === 0) {
      // Nothing written yet: a stale file of the old name is not this index's.
      this.file = file;
      return;
    }
    if (this.loaded === null || this.loaded.length > 0 || fs.existsSync(this.file)) {
      try {
        fs.renameSync(this.file, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    this.file = file;
  }

  /** Forgets every entry (recovery re-creates them by replay). */
  reset(): void {
    fs.rmSync(this.file, { force: true });
    this.loaded = [];
    this.dirty = false;
  }

  delete(): void {
    fs.rmSync(this.file, { force: true });
    this.loaded = [];
    this.dirty = false;
  }

  private load(): AbortedTxn[] {
    if (this.loaded !== null) return this.loaded;
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return (this.loaded = []);
    }
    const { entries, validBytes } = decodeEntries(bytes);
    // A torn last entry (or anything unreadable) is cut: the index is derived data.
    if (validBytes < bytes.length) fs.truncateSync(this.file, validBytes);
    return (this.loaded = entries);
  }
}

function encodeEntry(txn: AbortedTxn): Buffer {
  const buf = Buffer.alloc(TXN_INDEX_ENTRY_BYTES);
  buf.writeInt16BE(TXN_INDEX_VERSION, 0);
  buf.writeBigInt64BE(txn.producerId, 2);
  buf.writeBigInt64BE(BigInt(txn.firstOffset), 10);
  buf.writeBigInt64BE(BigInt(txn.lastOffset), 18);
  buf.writeBigInt64BE(BigInt(txn.lastStableOffset), 26);
  return buf;
}

/** The entry of TXN_INDEX_ENTRY_BYTES at `pos`, with the version it says it has; the caller
 * checks the version and that `pos` leaves a whole entry. */
export function decodeEntry(bytes: Buffer, pos: number): AbortedTxn & { version: number } {
  return {
    version: bytes.readInt16BE(pos),
    producerId: bytes.readBigInt64BE(pos + 2),
    firstOffset: Number(bytes.readBigInt64BE(pos + 10)),
    lastOffset: Number(bytes.readBigInt64BE(pos + 18)),
    lastStableOffset: Number(bytes.readBigInt64BE(pos + 26)),
  };
}

/** The whole, well-formed entries at the start of `bytes` (in increasing marker order). */
export function decodeEntries(bytes: Buffer): { entries: AbortedTxn[]; validBytes: number } {
  const entries: AbortedTxn[] = [];
  let p = 0;
  while (p + TXN_INDEX_ENTRY_BYTES <= bytes.length) {
    const { version, ...e } = decodeEntry(bytes, p);
    if (version !== TXN_INDEX_VERSION) break;
    const prev = entries[entries.length - 1];
    if (e.firstOffset > e.lastOffset || (prev !== undefined && e.lastOffset <= prev.lastOffset)) break;
    entries.push(e);
    p += TXN_INDEX_ENTRY_BYTES;
  }
  return { entries, validBytes: p };
}

/** TransactionIndex.collect over `entries` (in marker order). */
export function collectAbortedTxns(entries: readonly AbortedTxn[], fetchOffset: number, upperBoundOffset: number, out: AbortedTxn[]): boolean {
  for (let i = findFirstEndingAtOrAfter(entries, fetchOffset); i < entries.length; i++) {
    const e = entries[i]!;
    if (e.firstOffset < upperBoundOffset) out.push(e);
    if (e.lastStableOffset >= upperBoundOffset) return true;
  }
  return false;
}

/** Index of the first entry with lastOffset >= offset (entries.length when none). */
function findFirstEndingAtOrAfter(entries: readonly AbortedTxn[], offset: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.lastOffset < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
