// `node dist/bench/shutdown.js [partitions] [bin]`: the time a `tributary server` process takes
// from SIGTERM to exit with thousands of partitions (default 3000), each holding one record, and
// the time to the first line after SIGTERM. Starts the process on a fresh data dir, creates one
// topic with that many partitions through our admin client, produces one record per partition,
// sends SIGTERM, and prints one JSON line; asserts nothing. The optional second argument is
// another build's bin/tributary.js, for a before/after comparison on the same machine.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin, Producer } from '../src/client/index.js';

const partitions = Number(process.argv[2] ?? 3000);
const bin = resolve(process.argv[3] ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tributary.js'));

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shutdown-bench-'));
  const port = await freePort();
  const child = spawn(process.execPath, [bin, 'server', '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`, '--override', `log.dirs=${dir}`, '--override', 'num.partitions=1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TRIBUTARY_LOG_FORMAT: 'json' },
  });
  let output = '';
  let firstLineAfterSignalMs: number | null = null;
  let signalledAt = 0;
  child.stderr!.on('data', (c: Buffer) => {
    if (signalledAt > 0 && firstLineAfterSignalMs === null) firstLineAfterSignalMs = performance.now() - signalledAt;
    output += c.toString();
  });
  while (!output.includes('"msg":"started"')) await new Promise((r) => setTimeout(r, 50));
  const bootstrapServers = `127.0.0.1:${port}`;
  const admin = new Admin({ bootstrapServers });
  await admin.createTopics([{ topic: 'many', numPartitions: partitions, replicationFactor: 1 }]);
  await admin.close();
  const producer = new Producer({ bootstrapServers });
  await Promise.all(Array.from({ length: partitions }, (_, p) => producer.send({ topic: 'many', partition: p, value: Buffer.from(`r${p}`) })));
  await producer.close();
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  signalledAt = performance.now();
  child.kill('SIGTERM');
  const code = await exited;
  const exitMs = performance.now() - signalledAt;
  const lines = output.split('\n').filter((l) => l.includes('closing') || l.includes('closed') || l.includes('stopped') || l.includes('shutting down'));
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify({ partitions, exitCode: code, sigtermToExitMs: Math.round(exitMs), firstLineAfterSignalMs: firstLineAfterSignalMs === null ? null : Math.round(firstLineAfterSignalMs), lines: lines.map((l) => (JSON.parse(l) as { msg: string }).msg) }));
}

await main();
