// `tributary delete-records`: kafka-delete-records.sh with its JSON file
// {"partitions":[{"topic":"t","partition":0,"offset":3}],"version":1}.
import { readFileSync } from 'node:fs';
import { Admin } from '../client/index.js';
import { UsageError, clientOptions, out, parseToolArgs, required, runTool, showHelp } from './tool-support.js';

const USAGE = `Usage: tributary delete-records --bootstrap-server HOST:PORT --offset-json-file FILE
`;

interface OffsetJson {
  partitions?: { topic?: unknown; partition?: unknown; offset?: unknown }[];
}

export async function runDeleteRecords(argv: string[]): Promise<void> {
  await runTool('delete-records', USAGE, async () => {
    const { values } = parseToolArgs(argv, { 'offset-json-file': { type: 'string' } });
    if (showHelp(values, USAGE)) return;
    const file = required(values, 'offset-json-file');
    let parsed: OffsetJson;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as OffsetJson;
    } catch (err) {
      throw new UsageError(`Cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!Array.isArray(parsed.partitions) || parsed.partitions.length === 0) throw new UsageError(`${file} has no "partitions" list`);
    const requests = parsed.partitions.map((p, i) => {
      if (typeof p.topic !== 'string' || !Number.isInteger(p.partition) || !Number.isInteger(p.offset)) {
        throw new UsageError(`${file}: entry ${i} needs "topic" (string), "partition" and "offset" (integers)`);
      }
      return { topic: p.topic, partition: p.partition as number, offset: BigInt(p.offset as number) };
    });
    const admin = new Admin(clientOptions(values));
    try {
      await out('Executing records delete operation\n');
      const results = await admin.deleteRecords(requests);
      await out(`Records delete operation completed:\n${results.map((r) => `partition: ${r.topic}-${r.partition}\tlow_watermark: ${r.lowWatermark}\n`).join('')}`);
    } finally {
      await admin.close();
    }
  });
}
