// Log cleaner throughput: MB/s of dirty log cleaned in one round (offset map + rewrite + swap),
// on a log of `mb` MiB of 1 KiB records over `keys` keys, in segments of 16 MiB. Prints JSON.
// Run: node dist/bench/cleaner.js [mb=256] [keys=1000] [codec=none|lz4]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CompressionType } from '../src/protocol/records/batch-header.js';
import { compress, decompress } from '../src/protocol/records/compression.js';
import { encodeRecordBatch } from '../src/protocol/records/record-batch.js';
import { systemClock } from '../src/storage/clock.js';
import { defaultLogConfig } from '../src/storage/config.js';
import { LogCleaner } from '../src/storage/log-cleaner.js';
import { PartitionLog } from '../src/storage/partition-log.js';

const mb = Number(process.argv[2] ?? 256);
const keys = Number(process.argv[3] ?? 1000);
const codec = process.argv[4] === 'lz4' ? CompressionType.Lz4 : CompressionType.None;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cleaner-bench-'));
try {
  const log = PartitionLog.open(dir, 'bench', 0, defaultLogConfig({ cleanupPolicy: 'compact', segmentBytes: 16 * 1024 * 1024 }), systemClock);
  const value = Buffer.alloc(1024, 0x61);
  let n = 0;
  while (log.sizeInBytes < mb * 1024 * 1024) {
    const records = Array.from({ length: 100 }, () => ({ key: Buffer.from(`key-${n++ % keys}`), value, timestamp: Date.now() }));
    log.append(encodeRecordBatch({ records, compression: codec }), { leaderEpoch: 0, assignOffsets: true });
    log.highWatermark = log.logEndOffset;
  }
  log.roll();
  const dirtyBytes = log.sizeInBytes;
  const cleaner = new LogCleaner({ dedupeBufferBytes: 128 * 1024 * 1024, codec: { decompress: (t, d) => decompress(t, d, 1 << 26), compress: (t, d) => compress(t, d) }, clock: systemClock });
  const start = process.hrtime.bigint();
  const stats = cleaner.clean(log, null);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(JSON.stringify({ workload: 'log-cleaner', codec: process.argv[4] ?? 'none', dirtyMB: +(dirtyBytes / 1048576).toFixed(1), seconds: +seconds.toFixed(2), mbPerSecond: +(dirtyBytes / 1048576 / seconds).toFixed(1), recordsPerSecond: Math.round(stats.recordsRead / seconds), recordsRead: stats.recordsRead, recordsKept: stats.recordsKept, segmentsBefore: stats.segmentsBefore, segmentsAfter: stats.segmentsAfter, bytesAfter: log.sizeInBytes }));
  log.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
