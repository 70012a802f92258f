// The log cleaner's offset map: key -> latest offset seen, in one fixed buffer, as Kafka's
// SkimpyOffsetMap. A slot is a 16-byte MD5 of the key plus the offset + 1 (8 bytes; 0 = empty), so
// memory is exactly what the buffer holds, whatever the keys' sizes: log.cleaner.dedupe.buffer.size
// bounds it. Two keys with one MD5 would share a slot (one of them loses its older values early);
// like Kafka, we accept a 2^-128 chance per pair. Linear probing; the map refuses new keys once
// `loadFactor` of its slots are used, and the cleaner then stops its dirty section there.
//
// One map per cleaner, reused across rounds: clear() zeroes only the slots the last round could use.
import { hash } from 'node:crypto';

const HASH_BYTES = 16;
const SLOT_BYTES = HASH_BYTES + 8;
/** Kafka's log.cleaner.io.buffer.load.factor default. */
export const DEFAULT_LOAD_FACTOR = 0.9;

export class OffsetMap {
  /** Allocated by clear() up to what the round needs: a small log does not touch 128 MiB of pages. */
  private bufferStore: Buffer = Buffer.alloc(0);
  private readonly maxSlots: number;
  private slots = 0;
  private used = 0;
  private latest = -1;

  /** `bufferBytes`: this map's share of log.cleaner.dedupe.buffer.size. */
  constructor(bufferBytes: number, private readonly loadFactor = DEFAULT_LOAD_FACTOR) {
    // A load factor below 1 leaves an empty slot, which ends every probe.
    if (!(loadFactor > 0 && loadFactor < 1)) throw new RangeError(`offset map load factor ${loadFactor} must be in (0, 1)`);
    this.maxSlots = Math.max(2, Math.floor(bufferBytes / SLOT_BYTES));
    this.clear(0);
  }

  /** How many keys fit at most (slots x load factor). */
  get capacity(): number {
    return Math.floor(this.maxSlots * this.loadFactor);
  }

  get size(): number {
    return this.used;
  }

  /** The largest offset put since clear(), -1 when none. */
  get latestOffset(): number {
    return this.latest;
  }

  /** Empties the map and sizes its table for at most `expectedKeys` keys (bounded by capacity). */
  clear(expectedKeys: number = this.capacity): void {
    const wanted = Math.min(this.maxSlots, Math.max(16, Math.ceil(Math.min(expectedKeys, this.capacity) / this.loadFactor) + 1));
    if (this.bufferStore.length < wanted * SLOT_BYTES) this.bufferStore = Buffer.alloc(wanted * SLOT_BYTES);
    else this.bufferStore.fill(0, 0, wanted * SLOT_BYTES);
    this.slots = wanted;
    this.used = 0;
    this.latest = -1;
  }

  /** Whether another new key fits. */
  get full(): boolean {
    return this.used >= Math.floor(this.slots * this.loadFactor);
  }

  /**
   * Records `offset` as the latest for `key` (offsets are put in increasing order). Returns false,
   * changing nothing, when the key is new and the map is full.
   */
  put(key: Buffer, offset: number): boolean {
    const digest = hash('md5', key, 'buffer');
    const slot = this.find(digest);
    const at = slot * SLOT_BYTES;
    const buf = this.bufferStore;
    if (buf.readBigUInt64BE(at + HASH_BYTES) === 0n) {
      if (this.full) return false;
      digest.copy(buf, at);
      this.used++;
    }
    buf.writeBigUInt64BE(BigInt(offset + 1), at + HASH_BYTES);
    if (offset > this.latest) this.latest = offset;
    return true;
  }

  /** The latest offset put for `key`, or -1. */
  get(key: Buffer): number {
    if (this.slots === 0) return -1;
    const digest = hash('md5', key, 'buffer');
    const at = this.find(digest) * SLOT_BYTES;
    const stored = this.bufferStore.readBigUInt64BE(at + HASH_BYTES);
    return stored === 0n ? -1 : Number(stored) - 1;
  }

  /** The slot holding `digest`, or the empty slot where it would go. */
  private find(digest: Buffer): number {
    const buf = this.bufferStore;
    let slot = digest.readUInt32BE(0) % this.slots;
    for (;;) {
      const at = slot * SLOT_BYTES;
      if (buf.readBigUInt64BE(at + HASH_BYTES) === 0n || buf.compare(digest, 0, HASH_BYTES, at, at + HASH_BYTES) === 0) return slot;
      slot = slot + 1 === this.slots ? 0 : slot + 1;
    }
  }
}
