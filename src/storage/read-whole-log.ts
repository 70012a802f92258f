// Reads a partition from its log start to its log end as raw chunks of whole batches, for the
// replays that rebuild state at start-up (the metadata log, __consumer_offsets).
import { BASE_OFFSET_OFFSET, BATCH_LENGTH_OFFSET, LAST_OFFSET_DELTA_OFFSET, LOG_OVERHEAD, RECORD_BATCH_OVERHEAD } from '../protocol/records/batch-header.js';
import type { PartitionStore } from './partition-store.js';

/** Yields the stored bytes of every batch in order, `maxReadBytes` (at least one batch) at a time.
 * Each yielded buffer belongs to the caller. */
export function* readWholeLog(store: PartitionStore, maxReadBytes: number): Iterable<Buffer> {
  let offset = store.logStartOffset;
  const end = store.logEndOffset;
  while (offset < end) {
    const r = store.read(offset, maxReadBytes, end, true);
    if (r.records.length === 0) return;
    yield r.records;
    const next = offsetAfterLastBatch(r.records);
    if (next <= offset) return;
    offset = next;
  }
}

/** The offset after the last whole batch in `buf`, or -1 when it holds none. */
function offsetAfterLastBatch(buf: Buffer): number {
  let next = -1;
  let pos = 0;
  while (pos + RECORD_BATCH_OVERHEAD <= buf.length) {
    const size = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
    if (pos + size > buf.length) break;
    next = Number(buf.readBigInt64BE(pos + BASE_OFFSET_OFFSET)) + buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET) + 1;
    pos += size;
  }
  return next;
}
