// Test support for the storage tests: builds valid v2 batches (uncompressed records with real
// record framing, so the timestamp search can look inside) without the record-batch codec, and
// gives each test its own temporary log dir. Not used by production code.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ATTRIBUTES_OFFSET,
  ATTR_TRANSACTIONAL,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORD_BATCH_OVERHEAD,
} from '../protocol/records/batch-header.js';
import { compress, decompress } from '../protocol/records/compression.js';
import { crc32c } from '../protocol/records/crc32c.js';
import type { CleanerSettings } from './cleaner-manager.js';
import { sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from '../protocol/varint.js';
import { ManualClock } from './clock.js';
import { defaultLogConfig } from './config.js';
import { MemoryPartitionLog } from './memory-partition-log.js';
import { PartitionLog } from './partition-log.js';
import type { AppendOptions, AppendResult, PartitionStore } from './partition-store.js';

export interface TestBatchOptions {
  /** Record timestamps; their count is the record count. Default: one record at 1000. */
  timestamps?: number[];
  /** Bytes of value per record. */
  valueBytes?: number;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
}

/** One valid v2 batch with base offset 0 and a correct CRC32C. */
export function makeBatch(opts: TestBatchOptions = {}): Buffer {
  const timestamps = opts.timestamps ?? [1000];
  const valueBytes = opts.valueBytes ?? 10;
  const baseTimestamp = Math.min(...timestamps);
  const records: Buffer[] = timestamps.map((ts, i) => {
    const value = Buffer.alloc(valueBytes, 0x61 + (i % 26));
    const tsDelta = BigInt(ts - baseTimestamp);
    // attributes, timestampDelta, offsetDelta, key length -1, value length, value, header count 0
    const bodySize = 1 + sizeOfVarlong(tsDelta) + sizeOfVarint(i) + sizeOfVarint(-1) + sizeOfVarint(valueBytes) + valueBytes + sizeOfVarint(0);
    const buf = Buffer.alloc(sizeOfVarint(bodySize) + bodySize);
    let p = writeVarint(buf, 0, bodySize);
    buf[p++] = 0;
    p = writeVarlong(buf, p, tsDelta);
    p = writeVarint(buf, p, i);
    p = writeVarint(buf, p, -1);
    p = writeVarint(buf, p, valueBytes);
    value.copy(buf, p);
    p += valueBytes;
    writeVarint(buf, p, 0);
    return buf;
  });
  const body = Buffer.concat(records);
  const batch = Buffer.alloc(RECORD_BATCH_OVERHEAD + body.length);
  batch.writeBigInt64BE(0n, BASE_OFFSET_OFFSET);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  batch.writeInt32BE(-1, PARTITION_LEADER_EPOCH_OFFSET);
  batch.writeInt8(2, MAGIC_OFFSET);
  batch.writeInt16BE(opts.transactional ? ATTR_TRANSACTIONAL : 0, ATTRIBUTES_OFFSET);
  batch.writeInt32BE(timestamps.length - 1, LAST_OFFSET_DELTA_OFFSET);
  batch.writeBigInt64BE(BigInt(baseTimestamp), BASE_TIMESTAMP_OFFSET);
  batch.writeBigInt64BE(BigInt(Math.max(...timestamps)), MAX_TIMESTAMP_OFFSET);
  batch.writeBigInt64BE(opts.producerId ?? -1n, PRODUCER_ID_OFFSET);
  batch.writeInt16BE(opts.producerEpoch ?? -1, PRODUCER_EPOCH_OFFSET);
  batch.writeInt32BE(opts.baseSequence ?? -1, BASE_SEQUENCE_OFFSET);
  batch.writeInt32BE(timestamps.length, RECORDS_COUNT_OFFSET);
  body.copy(batch, RECORD_BATCH_OVERHEAD);
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return batch;
}

/** Base offsets of the batches in a buffer of concatenated batches. */
export function batchBaseOffsets(records: Buffer): number[] {
  const out: number[] = [];
  let pos = 0;
  while (pos + LOG_OVERHEAD <= records.length) {
    out.push(Number(records.readBigInt64BE(pos + BASE_OFFSET_OFFSET)));
    pos += records.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
  }
  return out;
}

/** A fresh temporary directory; remove it with cleanup(). */
export function tmpLogDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-storage-'));
}

export function cleanup(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Segment .log files of a partition dir, sorted. */
export function segmentFiles(partitionDir: string): string[] {
  return fs.readdirSync(partitionDir).filter((n) => n.endsWith('.log')).sort().map((n) => path.join(partitionDir, n));
}

/** Appends as the broker's replica manager does on a single node: the append, then the high
 * watermark moved to the log end (storage never moves it by itself). */
export function appendCommitted(store: PartitionStore, records: Buffer, opts: AppendOptions): AppendResult {
  const result = store.append(records, opts);
  store.highWatermark = store.logEndOffset;
  return result;
}

/** Both PartitionStore implementations, each with a fresh log `t-0` on a manual clock at `startMs`. */
export function bothStores(startMs: number): [string, () => { log: PartitionStore; done(): void }][] {
  return [
    ['PartitionLog', () => {
      const dir = tmpLogDir();
      const log = PartitionLog.open(dir, 't', 0, defaultLogConfig(), new ManualClock(startMs));
      return { log, done: () => { log.close(); cleanup(dir); } };
    }],
    ['MemoryPartitionLog', () => ({ log: new MemoryPartitionLog('t', 0, defaultLogConfig(), new ManualClock(startMs)), done: () => {} })],
  ];
}

/** Log cleaner settings for tests: one worker, a 1 MiB dedupe buffer, small reads, unthrottled. */
export function cleanerTestSettings(o: Partial<CleanerSettings> = {}): CleanerSettings {
  return {
    enabled: true,
    threads: 1,
    dedupeBufferBytes: 1 << 20,
    ioBufferBytes: 4096,
    loadFactor: 0.9,
    ioMaxBytesPerSecond: Number.POSITIVE_INFINITY,
    backoffMs: 10,
    codec: { decompress: (t, d) => decompress(t, d, 1 << 26), compress: (t, d) => compress(t, d) },
    maxUncompressedBytes: 1 << 26,
    ...o,
  };
}
