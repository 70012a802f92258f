// `tributary dump-log`: kafka-dump-log.sh for .log segment files, read directly from disk with
// the record batch codec (no broker needed). Batch lines always; record lines with
// --deep-iteration or --print-data-log (which also prints keys and payloads).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ATTR_COMPRESSION_MASK, ATTR_CONTROL, ATTR_TRANSACTIONAL, ATTR_TIMESTAMP_TYPE_LOG_APPEND } from '../protocol/records/batch-header.js';
import { computeBatchCrc, decodeRecordBatch, forEachBatch } from '../protocol/records/record-batch.js';
import { UsageError, flag, out, parseToolArgs, runTool, showHelp, strs } from './tool-support.js';

const USAGE = `Usage: tributary dump-log --files FILE1.log[,FILE2.log...] [--print-data-log] [--deep-iteration]
`;

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

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
      if (!file.endsWith('.log')) throw new UsageError(`${file}: only .log segment files are supported`);
      let buf: Buffer;
      try {
        buf = readFileSync(file);
      } catch (err) {
        throw new UsageError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
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
      let scan;
      try {
        scan = forEachBatch(buf, (h, pos) => {
          const attrs = h.attributes;
          const lastOffset = h.baseOffset + BigInt(h.lastOffsetDelta);
          const lastSequence = h.baseSequence < 0 ? -1 : h.baseSequence + h.lastOffsetDelta;
          const tsType = (attrs & ATTR_TIMESTAMP_TYPE_LOG_APPEND) !== 0 ? 'LogAppendTime' : 'CreateTime';
          const valid = computeBatchCrc(buf, pos) === h.crc;
          lines.push(
            `baseOffset: ${h.baseOffset} lastOffset: ${lastOffset} count: ${h.recordsCount} baseSequence: ${h.baseSequence} lastSequence: ${lastSequence} ` +
              `producerId: ${h.producerId} producerEpoch: ${h.producerEpoch} partitionLeaderEpoch: ${h.partitionLeaderEpoch} ` +
              `isTransactional: ${(attrs & ATTR_TRANSACTIONAL) !== 0} isControl: ${(attrs & ATTR_CONTROL) !== 0} deleteHorizonMs: OptionalLong.empty ` +
              `position: ${pos} ${tsType}: ${h.maxTimestamp} size: ${h.sizeInBytes} magic: ${h.magic} compresscodec: ${CODECS[attrs & ATTR_COMPRESSION_MASK] ?? 'unknown'} crc: ${h.crc} isvalid: ${valid}\n`,
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
        });
      } catch (err) {
        await flush();
        throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
      await flush();
      if (scan.trailingBytes > 0) await out(`Found ${scan.trailingBytes} invalid bytes at the end of ${basename(file)}\n`);
    }
  });
}
