// Sparse time index: entries (timestamp int64, relative offset int32) with strictly increasing
// timestamps. An entry (T, O) says: T is the largest timestamp in the segment up to and including
// the batch that ends at offset O.
import { FixedEntryIndex } from './fixed-entry-index.js';

export const TIME_INDEX_ENTRY_SIZE = 12;

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

export class TimeIndex extends FixedEntryIndex {
  private readonly scratch = Buffer.alloc(TIME_INDEX_ENTRY_SIZE);

  constructor(path: string, baseOffset: number, maxIndexBytes: number) {
    super(path, baseOffset, TIME_INDEX_ENTRY_SIZE, maxIndexBytes);
  }

  timestampAt(i: number): number {
    return Number(this.buffer.readBigInt64BE(this.entryAt(i)));
  }

  offsetAt(i: number): number {
    return this.baseOffset + this.buffer.readInt32BE(this.entryAt(i) + 8);
  }

  lastEntry(): TimestampOffset | null {
    const n = this.entries;
    return n === 0 ? null : { timestamp: this.timestampAt(n - 1), offset: this.offsetAt(n - 1) };
  }

  /**
   * The entry with the largest timestamp < target, or null. Every batch up to its offset has
   * timestamps below target, so a search for the first timestamp >= target may start after it.
   */
  lookupBelow(targetTimestamp: number): TimestampOffset | null {
    const i = this.floorIndex(targetTimestamp - 1, (k) => this.timestampAt(k));
    return i < 0 ? null : { timestamp: this.timestampAt(i), offset: this.offsetAt(i) };
  }

  /**
   * Appends when `timestamp` is larger than the last entry's. `final` (at roll/close) may use the
   * slot isFull() keeps in reserve, so the last entry always holds the segment's max timestamp.
   */
  maybeAppend(timestamp: number, offset: number, final = false): void {
    if (timestamp < 0) return; // no timestamp (an empty segment): nothing to index, as Kafka
    const last = this.lastEntry();
    if (last !== null && (timestamp <= last.timestamp || offset < last.offset)) return;
    if (final ? this.entries >= this.maxEntries : this.isFull()) return;
    this.scratch.writeBigInt64BE(BigInt(timestamp), 0);
    this.scratch.writeInt32BE(offset - this.baseOffset, 8);
    this.appendEntry(this.scratch);
  }

  /** Removes every entry whose offset is >= offset. */
  truncateTo(offset: number): void {
    let keep = this.entries;
    while (keep > 0 && this.offsetAt(keep - 1) >= offset) keep--;
    this.truncateToEntries(keep);
  }

  protected validPrefix(buf: Buffer, entries: number): number {
    let prevTs = -Infinity;
    let prevRel = -1;
    for (let i = 0; i < entries; i++) {
      const ts = Number(buf.readBigInt64BE(i * TIME_INDEX_ENTRY_SIZE));
      const rel = buf.readInt32BE(i * TIME_INDEX_ENTRY_SIZE + 8);
      if (ts <= prevTs || rel < prevRel || rel < 0 || (ts === 0 && rel === 0 && i > 0)) return i;
      prevTs = ts;
      prevRel = rel;
    }
    return entries;
  }
}
