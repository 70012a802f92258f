// `tributary dump-log`: kafka-dump-log.sh for .log segment files, read directly from disk with
// the record batch codec (no broker needed). Batch lines always; record lines with
// --deep-iteration or --print-data-log (which also prints keys and payloads). A segment is read in
// chunks (memory stays bounded for a 1 GiB segment), with a progress line on a terminal's stderr.
// A .txnindex file (a segment's aborted transactions) prints one line per entry, in Kafka's
// wording (DumpLogSegments.dumpTxnIndex); like Kafka, a torn last entry is not shown.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { ATTR_COMPRESSION_MASK, ATTR_CONTROL, ATTR_TRANSACTIONAL, ATTR_TIMESTAMP_TYPE_LOG_APPEND } from '../protocol/records/batch-header.js';
import { computeBatchCrc, decodeRecordBatch, forEachBatch } from '../protocol/records/record-batch.js';
import type { BatchHeader } from '../protocol/records/batch-header.js';
import { TXN_INDEX_ENTRY_BYTES, TXN_INDEX_VERSION, decodeEntry } from '../storage/txn-index.js';
import { ProgressLine, bytesProgress } from './progress-line.js';
import { UsageError, flag, out, parseToolArgs, runTool, showHelp, strs } from './tool-support.js';

const USAGE = `Usage: tributary dump-log --files FILE1.log[,FILE2.txnindex...] [--print-data-log] [--deep-iteration]
`;

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
/** Bytes read per step; a batch larger than this is read whole on its own. */
const CHUNK_BYTES = 8 * 1024 * 1024;
/** The batch length field ends here (offset i64 + length i32). */
const LENGTH_END = 12;

export async function runDumpLog(argv: string[]): Promise<void> {
  await runTool('dump-log', USAGE, async () => {
    const { values } = parseToolArgs(argv, {
      files: { type: 'string', multiple: true },
      'print-data-log': { type: 'boolean' },
      'deep-iteration': { type: 'boolean' },
    });
    if (showHelp(values, USAGE)) return;
    const files = strs(values, 'files').flatMap((f) => f.split(',')).filter((f) => f !== '');
    if (files.length === 0) throw new UsageError('Missing required argument "--files"');
    const printData = flag(values, 'print-data-log');
    const deep = printData || flag(values, 'deep-iteration');
    for (const file of files) {
      if (file.endsWith('.txnindex')) {
        await dumpTxnIndex(file, out);
        continue;
      }
      if (!file.endsWith('.log')) throw new UsageError(`${file}: only .log segment and .txnindex files are supported`);
      const fd = openForReading(file);
      await out(`Dumping ${file}\n`);
      const start = /^(\d+)\.log$/.exec(basename(file));
      await out(`Log starting offset: ${start === null ? 0 : BigInt(start[1]!)}\n`);
      let lines: string[] = [];
      const flush = async (): Promise<void> => {
        if (lines.length === 0) return;
        const text = lines.join('');
        lines = [];
        await out(text);
      };
      const progress = new ProgressLine();
      let trailingBytes: number;
      try {
        trailingBytes = await forEachBatchInFile(fd, CHUNK_BYTES, async (h, buf, pos, filePos, fileSize) => {
          const attrs = h.attributes;
          const lastOffset = h.baseOffset + BigInt(h.lastOffsetDelta);
          const lastSequence = h.baseSequence < 0 ? -1 : h.baseSequence + h.lastOffsetDelta;
          const tsType = (attrs & ATTR_TIMESTAMP_TYPE_LOG_APPEND) !== 0 ? 'LogAppendTime' : 'CreateTime';
          const valid = computeBatchCrc(buf, pos) === h.crc;
          lines.push(
            `baseOffset: ${h.baseOffset} lastOffset: ${lastOffset} count: ${h.recordsCount} baseSequence: ${h.baseSequence} lastSequence: ${lastSequence} ` +
              `producerId: ${h.producerId} producerEpoch: ${h.producerEpoch} partitionLeaderEpoch: ${h.partitionLeaderEpoch} ` +
              `isTransactional: ${(attrs & ATTR_TRANSACTIONAL) !== 0} isControl: ${(attrs & ATTR_CONTROL) !== 0} deleteHorizonMs: OptionalLong.empty ` +
              `position: ${filePos} ${tsType}: ${h.maxTimestamp} size: ${h.sizeInBytes} magic: ${h.magic} compresscodec: ${CODECS[attrs & ATTR_COMPRESSION_MASK] ?? 'unknown'} crc: ${h.crc} isvalid: ${valid}\n`,
          );
          if (!deep || !valid) return;
          const batch = decodeRecordBatch(buf, pos, { skipCrcCheck: true });
          batch.records.forEach((r) => {
            const seq = h.baseSequence < 0 ? -1 : h.baseSequence + r.offsetDelta;
            let line = `| offset: ${r.offset} ${tsType}: ${r.timestamp} keySize: ${r.key === null ? -1 : r.key.length} valueSize: ${r.value === null ? -1 : r.value.length} sequence: ${seq} headerKeys: [${r.headers.map((x) => x.key).join(',')}]`;
            if (printData) {
              if ((attrs & ATTR_CONTROL) !== 0) line += ` endTxnMarker: ${r.key !== null && r.key.length >= 4 && r.key.readInt16BE(2) === 1 ? 'COMMIT' : 'ABORT'}`;
              else {
                if (r.key !== null) line += ` key: ${r.key.toString('utf8')}`;
                line += ` payload: ${r.value === null ? '' : r.value.toString('utf8')}`;
              }
            }
            lines.push(`${line}\n`);
          });
          if (lines.length >= FLUSH_LINES) {
            progress.clear();
            await flush();
          }
          progress.update(() => `dump-log: ${basename(file)}: ${bytesProgress(filePos + h.sizeInBytes, fileSize)}`);
        });
      } catch (err) {
        progress.clear();
        await flush();
        throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        closeSync(fd);
      }
      progress.clear();
      await flush();
      if (trailingBytes > 0) await out(`Found ${trailingBytes} invalid bytes at the end of ${basename(file)}\n`);
    }
  });
}

function openForReading(file: string): number {
  try {
    return openSync(file, 'r');
  } catch (err) {
    throw new UsageError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/**
 * Prints a transaction index's entries through `write`, CHUNK_BYTES of whole entries at a time.
 * An entry of a version newer than Kafka's only one stops the dump with Kafka's error.
 */
export async function dumpTxnIndex(file: string, write: (text: string) => Promise<void> | void): Promise<void> {
  const fd = openForReading(file);
  try {
    await write(`Dumping ${file}\n`);
    const chunk = Buffer.allocUnsafe(Math.min(fstatSync(fd).size, Math.floor(CHUNK_BYTES / TXN_INDEX_ENTRY_BYTES) * TXN_INDEX_ENTRY_BYTES));
    let filePos = 0;
    for (;;) {
      const buf = readExactly(fd, filePos, chunk);
      const whole = Math.floor(buf.length / TXN_INDEX_ENTRY_BYTES);
      let text = '';
      for (let i = 0; i < whole; i++) {
        const e = decodeEntry(buf, i * TXN_INDEX_ENTRY_BYTES);
        if (e.version > TXN_INDEX_VERSION) {
          await write(text);
          throw new Error(`Unexpected aborted transaction version ${e.version} in transaction index ${file}, current version is ${TXN_INDEX_VERSION}`);
        }
        text += `version: ${e.version} producerId: ${e.producerId} firstOffset: ${e.firstOffset} lastOffset: ${e.lastOffset} lastStableOffset: ${e.lastStableOffset}\n`;
      }
      if (text !== '') await write(text);
      filePos += whole * TXN_INDEX_ENTRY_BYTES;
      if (buf.length < chunk.length || whole === 0) return;
    }
  } finally {
    closeSync(fd);
  }
}

/** Output is written every this many lines (stdout backpressure, bounded memory). */
const FLUSH_LINES = 10_000;

type BatchVisitor = (header: BatchHeader, buf: Buffer, pos: number, filePos: number, fileSize: number) => Promise<void>;

/**
 * Visits every whole batch of the open file `fd` in order, reading `chunkBytes` at a time (a batch
 * that does not fit is read whole by itself), with forEachBatch's framing checks and positions
 * reported as file positions. Returns the bytes left after the last whole batch.
 */
export async function forEachBatchInFile(fd: number, chunkBytes: number, visit: BatchVisitor): Promise<number> {
  const fileSize = fstatSync(fd).size;
  // One read buffer, reused (visitors see `buf` only while they run), grown for a larger batch.
  let readBuffer = Buffer.allocUnsafe(Math.min(chunkBytes, fileSize));
  let filePos = 0;
  while (filePos < fileSize) {
    const left = fileSize - filePos;
    let want = Math.min(chunkBytes, left);
    if (left >= LENGTH_END) {
      const declared = readExactly(fd, filePos, Buffer.allocUnsafe(LENGTH_END)).readInt32BE(8) + LENGTH_END;
      // A batch that runs past the end of the file is a partial tail, as forEachBatch counts it.
      if (declared > left) return left;
      want = Math.max(want, declared);
    }
    if (want > readBuffer.length) readBuffer = Buffer.allocUnsafe(want);
    const buf = readExactly(fd, filePos, readBuffer.subarray(0, want));
    const found: Array<{ header: BatchHeader; pos: number }> = [];
    const scan = forEachBatch(buf, (header, pos) => void found.push({ header, pos }), filePos);
    for (const { header, pos } of found) await visit(header, buf, pos, filePos + pos, fileSize);
    if (scan.endPosition === 0) return left;
    filePos += scan.endPosition;
  }
  return 0;
}

/** Fills `buf` from `position`; shorter at the end of the file. */
function readExactly(fd: number, position: number, buf: Buffer): Buffer {
  const length = buf.length;
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) return buf.subarray(0, done);
    done += n;
  }
  return buf;
}
