// Sparse offset index: entries (relative offset int32, file position int32), one per
// index.interval.bytes of log. An entry maps the LAST offset of a batch to the position where that
// batch starts, so the batch holding any offset >= the entry's offset starts at or after it.
import { FixedEntryIndex } from './fixed-entry-index.js';

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex extends FixedEntryIndex {
  private readonly scratch = Buffer.alloc(OFFSET_INDEX_ENTRY_SIZE);

  constructor(path: string, baseOffset: number, maxIndexBytes: number) {
    super(path, baseOffset, OFFSET_INDEX_ENTRY_SIZE, maxIndexBytes);
  }

  offsetAt(i: number): number {
    return this.baseOffset + this.buffer.readInt32BE(this.entryAt(i));
  }

  positionAt(i: number): number {
    return this.buffer.readInt32BE(this.entryAt(i) + 4);
  }

  lastEntry(): OffsetPosition | null {
    const n = this.entries;
    return n === 0 ? null : { offset: this.offsetAt(n - 1), position: this.positionAt(n - 1) };
  }

  /** The entry with the largest offset <= target, or (baseOffset, 0) if there is none. */
  lookup(targetOffset: number): OffsetPosition {
    const i = this.floorIndex(targetOffset, (k) => this.offsetAt(k));
    return i < 0 ? { offset: this.baseOffset, position: 0 } : { offset: this.offsetAt(i), position: this.positionAt(i) };
  }

  append(offset: number, position: number): void {
    const last = this.lastEntry();
    if (last !== null && (offset <= last.offset || position <= last.position)) {
      throw new Error(`offset index ${this.path}: entry (${offset}, ${position}) not after (${last.offset}, ${last.position})`);
    }
    const relative = offset - this.baseOffset;
    if (relative < 0 || relative > 0x7fffffff) throw new Error(`offset ${offset} not relative to ${this.baseOffset}`);
    this.scratch.writeInt32BE(relative, 0);
    this.scratch.writeInt32BE(position, 4);
    this.appendEntry(this.scratch);
  }

  /** Removes every entry whose offset is >= offset. */
  truncateTo(offset: number): void {
    const keep = this.floorIndex(offset - 1, (k) => this.offsetAt(k)) + 1;
    this.truncateToEntries(keep);
  }

  protected validPrefix(buf: Buffer, entries: number): number {
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < entries; i++) {
      const rel = buf.readInt32BE(i * OFFSET_INDEX_ENTRY_SIZE);
      const pos = buf.readInt32BE(i * OFFSET_INDEX_ENTRY_SIZE + 4);
      if (rel <= prevRel || pos <= prevPos || rel < 0 || pos < 0) return i;
      prevRel = rel;
      prevPos = pos;
    }
    return entries;
  }
}
