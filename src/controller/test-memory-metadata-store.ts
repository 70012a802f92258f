// Test support: a metadata log store in memory, for controller tests.
import { readBatchHeader } from '../protocol/records/batch-header.js';
import type { MetadataLogStore } from './metadata-log.js';

/** Batches in memory, with offsets assigned as a partition log assigns them. */
export class MemoryStore implements MetadataLogStore {
  readonly batches: Buffer[] = [];
  constructor(readonly maxBatchBytes = 1024 * 1024) {}
  private nextOffset = 0;
  append(batches: readonly Buffer[]): number {
    for (const batch of batches) {
      const copy = Buffer.from(batch);
      copy.writeBigInt64BE(BigInt(this.nextOffset), 0); // the base offset, outside the CRC
      this.nextOffset += readBatchHeader(copy, 0).lastOffsetDelta + 1;
      this.batches.push(copy);
    }
    return this.nextOffset;
  }
  readAll(): Iterable<Buffer> {
    return this.batches;
  }
}

