// The leader-epoch cache of one partition: which leader epoch wrote which part of the log, as
// ordered (epoch, startOffset) entries. Followers and consumers use it (OffsetForLeaderEpoch) to
// find where a diverged log must be truncated (KIP-101, KIP-279, KIP-320).
//
// Invariants: epochs strictly increase and start offsets strictly increase along the entries; an
// entry covers [startOffset, next entry's startOffset), the last one up to the log end. The owner
// (PartitionLog, MemoryPartitionLog) keeps every entry's start offset within
// [logStartOffset, logEndOffset]: truncateFromEnd on truncation, truncateFromStart when the log
// start moves up.
//
// Persistence (disk logs): `leader-epoch-checkpoint` in the partition directory, in Kafka's text
// format, rewritten atomically on every change (changes are rare: a new epoch, a truncation, the
// log start moving). Written before the data of a new epoch, as Kafka does, so the file never
// lacks an entry the log has; entries past the log end (a crash before the data) are cut at load.
//   0              <- version
//   2              <- number of entries
//   0 0            <- epoch startOffset
//   3 1200
import * as fs from 'node:fs';
import { writeFileAtomically } from './checkpoint.js';
import { asStorageError, invariant } from './errors.js';

export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

/** What OffsetForLeaderEpoch answers: the epoch found and where it ends, (-1, -1) when unknown. */
export interface EpochEndOffset {
  epoch: number;
  endOffset: number;
}

/** Kafka's text form of the entries. */
export function formatLeaderEpochCheckpoint(entries: readonly EpochEntry[]): string {
  const lines = ['0', String(entries.length)];
  for (const e of entries) lines.push(`${e.epoch} ${e.startOffset}`);
  return lines.join('\n') + '\n';
}

/**
 * Parses a checkpoint's text; throws an Error saying what is wrong when it is malformed (wrong
 * version, count not matching the lines, bad numbers, entries out of order).
 */
export function parseLeaderEpochCheckpoint(text: string): EpochEntry[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== '0') throw new Error(`unsupported version line '${lines[0] ?? ''}'`);
  if (lines.length < 2 || !/^\d+$/.test(lines[1]!)) throw new Error(`malformed count line '${lines[1] ?? ''}'`);
  const count = Number(lines[1]);
  if (lines.length !== count + 2) throw new Error(`expected ${count} entries, found ${lines.length - 2}`);
  const out: EpochEntry[] = [];
  for (const line of lines.slice(2)) {
    const m = /^(\d+) (\d+)$/.exec(line);
    if (m === null) throw new Error(`malformed line '${line}'`);
    const epoch = Number(m[1]);
    const startOffset = Number(m[2]);
    if (epoch > 0x7fffffff || !Number.isSafeInteger(startOffset)) throw new Error(`out of range line '${line}'`);
    const last = out[out.length - 1];
    if (last !== undefined && (epoch <= last.epoch || startOffset <= last.startOffset)) throw new Error(`entry '${line}' does not follow (${last.epoch}, ${last.startOffset})`);
    out.push({ epoch, startOffset });
  }
  return out;
}

/**
 * Reads a checkpoint file: its entries, null when there is no file, or the problem when it cannot
 * be used (the caller rebuilds the cache from the batches: the file is derived data).
 */
export function readLeaderEpochCheckpoint(file: string): { entries: EpochEntry[] | null; problem: string | null } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: null, problem: null };
    return { entries: null, problem: `cannot read ${file}: ${(err as Error).message}` };
  }
  try {
    return { entries: parseLeaderEpochCheckpoint(text), problem: null };
  } catch (err) {
    return { entries: null, problem: `${file}: ${(err as Error).message}` };
  }
}

export class LeaderEpochCache {
  private list: EpochEntry[];
  /** Entries changed since the file was last written (see assign's `persistNow`). */
  private dirty = false;

  /**
   * `file`: where changes are written (null: memory only). `entries` must satisfy the invariants
   * (parseLeaderEpochCheckpoint checks them). Nothing is written until the first change.
   */
  constructor(
    private readonly file: string | null,
    private readonly where: string,
    entries: readonly EpochEntry[] = [],
  ) {
    this.list = entries.map((e) => ({ ...e }));
  }

  /** The latest epoch, UNDEFINED_EPOCH when there is none. Compared by every leader append. */
  get latestEpoch(): number {
    const last = this.list[this.list.length - 1];
    return last === undefined ? UNDEFINED_EPOCH : last.epoch;
  }

  entries(): readonly Readonly<EpochEntry>[] {
    return this.list;
  }

  /**
   * Records that `epoch` starts at `startOffset` (the first offset it writes). Returns whether
   * anything changed. The latest epoch again is a no-op; a newer epoch at the same start offset as
   * the latest replaces it (that epoch wrote nothing, as Kafka drops it). A lower epoch, a lower
   * start offset, or negative values break the invariants: thrown as a programmer error.
   * `persistNow` false (an epoch started at the log end before it has data, by a new leader):
   * the file is written with the next change or persistIfDirty(), so hosting thousands of new
   * partitions costs no fsync each; a crash before loses nothing, as the entry covers no data and
   * the new leader assigns it again.
   */
  assign(epoch: number, startOffset: number, persistNow = true): boolean {
    invariant(epoch >= 0 && startOffset >= 0, `${this.where}: leader epoch entry (${epoch}, ${startOffset}) is negative`);
    const last = this.list[this.list.length - 1];
    if (last !== undefined) {
      invariant(epoch >= last.epoch, `${this.where}: leader epoch ${epoch} at offset ${startOffset} is older than the latest epoch ${last.epoch} (from offset ${last.startOffset})`);
      invariant(
        startOffset >= last.startOffset,
        `${this.where}: leader epoch ${epoch} would start at offset ${startOffset}, before the latest epoch ${last.epoch} (from offset ${last.startOffset})`,
      );
      if (epoch === last.epoch) return false;
      if (startOffset === last.startOffset) this.list.pop();
    }
    this.list.push({ epoch, startOffset });
    if (persistNow) this.persist();
    else this.dirty = true;
    return true;
  }

  /**
   * The end offset of `requestedEpoch` with Kafka's rules (LeaderEpochFileCache.endOffsetFor):
   * the latest epoch ends at the log end; an older one ends where the next higher epoch starts,
   * answered with the largest known epoch <= it (an epoch between entries gets the one below),
   * or with the requested epoch itself when it is below every entry; UNDEFINED_EPOCH, an epoch
   * above the latest, or an empty cache -> (-1, -1).
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): EpochEndOffset {
    const unknown = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === UNDEFINED_EPOCH) return unknown;
    if (requestedEpoch === this.latestEpoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.list.findIndex((e) => e.epoch > requestedEpoch);
    if (higher < 0) return unknown;
    const endOffset = this.list[higher]!.startOffset;
    return { epoch: higher === 0 ? requestedEpoch : this.list[higher - 1]!.epoch, endOffset };
  }

  /** The log now ends at `endOffset`: drops the entries starting at or after it. */
  truncateFromEnd(endOffset: number): boolean {
    let keep = this.list.length;
    while (keep > 0 && this.list[keep - 1]!.startOffset >= endOffset) keep--;
    if (keep === this.list.length) return false;
    this.list.length = keep;
    this.persist();
    return true;
  }

  /**
   * The log now starts at `startOffset`: drops the entries that end at or before it and raises the
   * start of the one covering it to `startOffset` (Kafka's truncateFromStart).
   */
  truncateFromStart(startOffset: number): boolean {
    let drop = 0;
    while (drop < this.list.length && this.list[drop]!.startOffset <= startOffset) drop++;
    if (drop === 0) return false;
    const covering = this.list[drop - 1]!;
    if (drop === 1 && covering.startOffset === startOffset) return false;
    this.list.splice(0, drop, { epoch: covering.epoch, startOffset });
    this.persist();
    return true;
  }

  /** Forgets every entry (the log was emptied and restarts elsewhere). */
  clear(): void {
    if (this.list.length === 0) return;
    this.list = [];
    this.persist();
  }

  /** Writes the file when an assign left it behind; called before data is written. */
  persistIfDirty(): void {
    if (this.dirty) this.persist();
  }

  /** Writes the file (when there is one) as it is now. */
  persist(): void {
    this.dirty = false;
    if (this.file === null) return;
    try {
      writeFileAtomically(this.file, formatLeaderEpochCheckpoint(this.list));
    } catch (err) {
      throw asStorageError(err, `${this.where}: writing ${this.file}`);
    }
  }
}
