// Third-party clients used by integration tests: kcat and confluent-kafka (both librdkafka),
// run as child processes with a bounded time.
import { execFile, spawn } from 'node:child_process';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with optional stdin; resolves (never rejects) with its output once it exits. */
export function run(cmd: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolveRun) => {
    const env = opts.env === undefined ? undefined : { ...process.env, ...opts.env };
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env, ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }) });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (err) => (stderr += `${cmd}: ${err.message}`));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

export function kcat(args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
  return run('kcat', args, opts);
}

/** Debian's python3 (the one python3-confluent-kafka installs into), not a pyenv shim. */
export const systemPython = '/usr/bin/python3';

/** Runs a Python script with confluent-kafka; the script prints JSON on its last line. */
export async function python<T>(script: string, args: string[] = [], timeoutMs = 60_000): Promise<T> {
  const r = await run(systemPython, ['-c', script, ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(`python exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

export function hasCommand(cmd: string): Promise<boolean> {
  return new Promise((r) => execFile('sh', ['-c', `command -v ${cmd}`], (err) => r(err === null)));
}

/**
 * confluent-kafka (librdkafka) with `conf` (security settings and bootstrap.servers): produces
 * `count` records `<prefix>0..` to partition 0 of `topic`, then reads them back in group `groupId`
 * from the earliest offset. Returns the values read, in order.
 */
export async function confluentRoundTrip(conf: Record<string, string>, topic: string, count: number, groupId: string, prefix = 'r'): Promise<string[]> {
  const out = await python<{ read: string[] }>(
    String.raw`
import json, sys
from confluent_kafka import Producer, Consumer
base, topic, count, group, prefix = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
p = Producer(base)
for i in range(count): p.produce(topic, value=('%s%d' % (prefix, i)).encode(), partition=0)
assert p.flush(20) == 0, 'undelivered records'
c = Consumer({**base, 'group.id': group, 'auto.offset.reset': 'earliest'})
c.subscribe([topic])
read = []
while len(read) < count:
    m = c.poll(15)
    if m is None: break
    if m.error(): continue
    read.append(m.value().decode())
c.close()
print(json.dumps({'read': read}))
`,
    [JSON.stringify(conf), topic, String(count), groupId, prefix],
    90_000,
  );
  return out.read;
}
