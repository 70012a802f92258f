// `npm run bench`: measures the broker from the outside with librdkafka-based clients, as
// ../shared/BENCHMARKS.md describes, next to a reference measured in the same run, and prints
// one JSON line per workload (the median of BENCH_RUNS runs, default 3). Asserts nothing.
//
// Every workload gets its own broker process (`node bin/tributary.js server` on a free loopback
// port with a temporary data dir) wrapped in `/usr/bin/time -v`, so peak RSS and CPU seconds are
// the broker's alone. CPU seconds of the workload itself are read from /proc before and after it.
//
// Environment:
//   BENCH_RUNS=3                 runs per workload (median reported)
//   BENCH_ONLY=ingest-1p,fetch   run only these workloads (names as printed)
//   BENCH_STARTUP_MB=1024        data written before the start-up measurement (scaled-down 10 GB)
//   BENCH_BROKER_NODE_ARGS=...   extra node flags for the broker, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
//   BENCH_KEEP=1                 keep the temporary data dirs
//   BENCH_CLEANER_DIRTY_MB=1024  dirty compacted log the cleaner-running workload cleans (opt-in: BENCH_ONLY=cleaner-running)
//   BENCH_CLIENT_NODE=/path/node the node binary for the client comparison's clients (all three)
//   BENCH_CLIENT_NODE_ARGS=...   extra node flags for those clients, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { makeCertificates } from '../test/helpers/tls-certificates.js';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Set by snapshotBuild(): brokers run from a private copy of the build taken at the start, so a
// rebuild of dist/ in this checkout during a long run cannot change (or break) later runs.
let tributaryBin = join(projectRoot, 'bin', 'tributary.js');
const rdkafkaBenchSource = resolve(projectRoot, '../shared/tools/rdkafka-bench.c');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const ONLY = (process.env['BENCH_ONLY'] ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
const STARTUP_MB = Number(process.env['BENCH_STARTUP_MB'] ?? 1024);
const BROKER_NODE_ARGS = (process.env['BENCH_BROKER_NODE_ARGS'] ?? '').split(/\s+/).filter((s) => s.length > 0);
const KEEP = process.env['BENCH_KEEP'] === '1';

const INGEST_RECORDS = 300_000;
const RECORD_BYTES = 1024;
const SMALL_RECORDS = 1_000_000;
const SMALL_RECORD_BYTES = 100;
const LATENCY_RATE = 5_000;
const LATENCY_SECONDS = 6;
const MANY_PARTITIONS = 1000;
const CLEANER_DIRTY_MB = Number(process.env['BENCH_CLEANER_DIRTY_MB'] ?? 1024);
const CLEANER_KEYS = 10_000;
const PRODUCE_PROPS = ['acks=1', 'linger.ms=5', 'batch.size=1000000'];
const FETCH_PROPS = ['fetch.max.bytes=52428800'];
const CLK_TCK = Number(tryRun('getconf', ['CLK_TCK'])?.trim() ?? 100) || 100;

// ---------------------------------------------------------------- small helpers

function tryRun(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
}

function hasCommand(cmd: string): boolean {
  return tryRun('sh', ['-c', `command -v ${cmd}`]) !== null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      srv.close(() => res(port));
    });
  });
}

interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a command to completion, capturing its output; `input` is written to stdin. */
function exec(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Exec> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr, seconds: (performance.now() - t0) / 1000 });
    });
    if (child.stdin !== null) {
      child.stdin.on('error', () => undefined); // the command may exit without reading its input
      child.stdin.end(opts.input);
    }
  });
}

// ---------------------------------------------------------------- the broker under test

interface BrokerUsage {
  userSeconds: number;
  systemSeconds: number;
  peakRssMB: number;
}

/** One broker process, optionally wrapped in `/usr/bin/time -v` for CPU and peak RSS. */
class BenchBroker {
  /** ms from spawn to the "started" log line. */
  startMs = 0;
  private output = '';
  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly wrapper: ChildProcess,
    private readonly timeReport: string | null,
    public nodePid = 0,
  ) {}

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(dataDir: string, overrides: Record<string, string> = {}, port?: number): Promise<BenchBroker> {
    const p = port ?? (await freePort());
    const all: Record<string, string> = {
      listeners: `PLAINTEXT://127.0.0.1:${p}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${p}`,
      'log.dirs': dataDir,
      ...overrides,
    };
    const nodeArgs = [...BROKER_NODE_ARGS, tributaryBin, 'server'];
    for (const [k, v] of Object.entries(all)) nodeArgs.push('--override', `${k}=${v}`);
    const useTime = existsSync('/usr/bin/time');
    const timeReport = useTime ? join(dataDir, '..', `time-${p}-${Date.now()}.txt`) : null;
    const t0 = performance.now();
    const child = useTime
      ? spawn('/usr/bin/time', ['-v', '-o', timeReport!, process.execPath, ...nodeArgs], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TRIBUTARY_LOG_LEVEL: 'info' } })
      : spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TRIBUTARY_LOG_LEVEL: 'info' } });
    const b = new BenchBroker(p, dataDir, child, timeReport);
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`broker did not start within 120 s:\n${b.output.slice(-4000)}`)), 120_000);
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        if (b.output.length < 1_000_000) b.output += d;
        if (b.startMs === 0 && b.output.includes('"msg":"started"')) {
          b.startMs = performance.now() - t0;
          clearTimeout(timer);
          res();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        rej(new Error(`broker exited during start-up (code ${code}):\n${b.output.slice(-4000)}`));
      });
    });
    b.nodePid = useTime ? findChildPid(child.pid!) : child.pid!;
    liveBrokers.add(b);
    child.once('exit', () => liveBrokers.delete(b));
    return b;
  }

  /** The first JSON log line with this `msg` whose fields include `match`, or null. */
  logLine(msg: string, match: Record<string, unknown> = {}): Record<string, unknown> | null {
    for (const line of this.output.split('\n')) {
      if (!line.includes(`"msg":"${msg}"`)) continue;
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (Object.entries(match).every(([k, v]) => parsed[k] === v)) return parsed;
    }
    return null;
  }

  /** CPU seconds (user + system) the broker has used so far, from /proc. */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.nodePid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14, 15)
  }

  rssMB(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.nodePid}/status`, 'utf8'));
    return m === null ? NaN : Number(m[1]) / 1024;
  }

  /** SIGTERM (clean shutdown) and the resource report. */
  async stop(): Promise<BrokerUsage> {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.nodePid}/status`, 'utf8'));
    const cpu = this.cpuSeconds();
    const exited = new Promise<void>((r) => this.wrapper.once('exit', () => r()));
    process.kill(this.nodePid, 'SIGTERM');
    await exited;
    if (this.timeReport !== null && existsSync(this.timeReport)) {
      const text = readFileSync(this.timeReport, 'utf8');
      rmSync(this.timeReport, { force: true });
      const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
      return {
        userSeconds: num(/User time \(seconds\): ([\d.]+)/),
        systemSeconds: num(/System time \(seconds\): ([\d.]+)/),
        peakRssMB: round(num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024),
      };
    }
    return { userSeconds: cpu, systemSeconds: 0, peakRssMB: round(Number(hwm?.[1] ?? NaN) / 1024) };
  }

  kill(): void {
    try {
      process.kill(this.nodePid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

// Brokers still running; killed if the bench itself dies, so none is left behind.
const liveBrokers = new Set<BenchBroker>();
process.on('exit', () => {
  for (const b of liveBrokers) b.kill();
});

/** The node process that /usr/bin/time started (its only child). */
function findChildPid(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((s) => s.length > 0);
  if (children.length !== 1) throw new Error(`expected one child of /usr/bin/time (pid ${pid}), found ${children.length}`);
  return Number(children[0]);
}

/** Copies bin/ and dist/src/ to a temporary folder (node_modules linked) and runs brokers from there. */
function snapshotBuild(): string {
  const root = mkdtempSync(join(tmpdir(), 'tributary-bench-build-'));
  cpSync(join(projectRoot, 'bin'), join(root, 'bin'), { recursive: true });
  cpSync(join(projectRoot, 'dist', 'src'), join(root, 'dist', 'src'), { recursive: true });
  cpSync(join(projectRoot, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(projectRoot, 'node_modules'), join(root, 'node_modules'), 'dir');
  tributaryBin = join(root, 'bin', 'tributary.js');
  return root;
}

function tempDir(prefix: string): string {
  const parent = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
  return mkdtempSync(join(parent, prefix));
}

function removeTemp(dataDir: string): void {
  if (!KEEP) rmSync(dirname(dataDir), { recursive: true, force: true });
}

async function createTopic(bootstrap: string, topic: string, numPartitions: number, configs: Record<string, string> = {}): Promise<void> {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'bench-admin', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const configEntries = Object.entries(configs).map(([name, value]) => ({ name, value }));
    await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1, configEntries }], waitForLeaders: true, timeout: 60_000 });
  } finally {
    await admin.disconnect();
  }
}

/** API keys the broker advertises in ApiVersions (v0, encoded by hand: it is five fields). */
async function advertisedApiKeys(bootstrap: string): Promise<Set<number>> {
  const [host, port] = bootstrap.split(':');
  return new Promise((res, rej) => {
    const sock = connect(Number(port), host!);
    const req = Buffer.alloc(14);
    req.writeInt32BE(10, 0); // size
    req.writeInt16BE(18, 4); // ApiVersions
    req.writeInt16BE(0, 6); // v0
    req.writeInt32BE(1, 8); // correlation id
    req.writeInt16BE(-1, 12); // null client id
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      const keys = new Set<number>();
      const n = buf.readInt32BE(10);
      for (let i = 0; i < n; i++) keys.add(buf.readInt16BE(14 + i * 6));
      sock.destroy();
      res(keys);
    });
    sock.once('error', rej);
    sock.write(req);
  });
}

// ---------------------------------------------------------------- load generators

let rdkafkaBench: string | null = null;
let rdkafkaBenchProblem = '';

function buildRdkafkaBench(): void {
  if (!existsSync(rdkafkaBenchSource)) {
    rdkafkaBenchProblem = `${rdkafkaBenchSource} not found`;
    return;
  }
  if (!hasCommand('cc')) {
    rdkafkaBenchProblem = 'no C compiler (cc)';
    return;
  }
  const out = join(tmpdir(), `tributary-rdkafka-bench-${process.getuid?.() ?? 0}`);
  try {
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(rdkafkaBenchSource).mtimeMs) {
      execFileSync('cc', ['-O2', '-o', out, rdkafkaBenchSource, '-lrdkafka'], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
    rdkafkaBench = out;
  } catch (err) {
    rdkafkaBenchProblem = `cc -lrdkafka failed (is librdkafka-dev installed?): ${(err as Error).message.split('\n')[0]}`;
  }
}

interface RdkafkaResult {
  msgs: number;
  bytes: number;
  seconds: number;
  MBps: number;
  msgsps: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
}

async function rdkafka(mode: 'produce' | 'consume', args: string[]): Promise<RdkafkaResult> {
  const r = await exec(rdkafkaBench!, [mode, ...args]);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !line.startsWith('{')) throw new Error(`rdkafka-bench ${mode} failed (code ${r.code}): ${r.stderr.slice(-2000)}`);
  const out = JSON.parse(line) as RdkafkaResult;
  const lat = /p50 ([\d.]+) p99 ([\d.]+) max ([\d.]+)/.exec(r.stderr);
  if (lat !== null) {
    out.p50Ms = Number(lat[1]);
    out.p99Ms = Number(lat[2]);
    out.maxMs = Number(lat[3]);
  }
  return out;
}

// Paced producer for the latency workload: confluent-kafka (librdkafka) holding a fixed rate;
// latency is librdkafka's own produce()-to-ack measurement (Message.latency()).
const PACED_PRODUCER_PY = String.raw`
import json, os, sys, time
from confluent_kafka import Producer
bootstrap, topic, rate, seconds, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
conf = {'bootstrap.servers': bootstrap, 'acks': '1', 'linger.ms': 0, 'log_level': 3}
for kv in sys.argv[6:]:
    k, v = kv.split('=', 1); conf[k] = v
p = Producer(conf)
payload = os.urandom(size)
lat = []; errors = [0]
def done(err, msg):
    if err is not None: errors[0] += 1
    else: lat.append(msg.latency())
p.produce(topic, payload, on_delivery=lambda e, m: None); p.flush(30)  # connect and warm up
n = int(rate * seconds); interval = 1.0 / rate; start = time.perf_counter()
for i in range(n):
    due = start + i * interval
    while True:
        rem = due - time.perf_counter()
        if rem <= 0: break
        if rem > 0.002: p.poll(rem - 0.001)
        else: time.sleep(rem)
    p.produce(topic, payload, on_delivery=done); p.poll(0)
p.flush(30)
elapsed = time.perf_counter() - start
lat.sort()
q = lambda f: lat[min(len(lat) - 1, int(len(lat) * f))] * 1000
print(json.dumps({'msgs': len(lat), 'errors': errors[0], 'rate': len(lat) / elapsed, 'p50Ms': q(0.5), 'p99Ms': q(0.99), 'maxMs': lat[-1] * 1000}))
`;

async function pacedProducer(bootstrap: string, topic: string, extra: string[] = []): Promise<{ msgs: number; errors: number; rate: number; p50Ms: number; p99Ms: number; maxMs: number }> {
  const r = await exec('/usr/bin/python3', ['-c', PACED_PRODUCER_PY, bootstrap, topic, String(LATENCY_RATE), String(LATENCY_SECONDS), String(RECORD_BYTES), ...extra]);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !line.startsWith('{')) throw new Error(`paced producer failed (code ${r.code}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line);
}

// Keyed records for a compacted topic (rdkafka-bench produces without keys): `count` records of
// `size` B over `keys` keys, as fast as librdkafka takes them; exits non-zero on a delivery error.
const KEYED_LOADER_PY = String.raw`
import sys
from confluent_kafka import Producer
bootstrap, topic, count, size, keys = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
p = Producer({'bootstrap.servers': bootstrap, 'acks': '1', 'linger.ms': 5, 'batch.size': 1000000, 'queue.buffering.max.messages': 500000, 'log_level': 3})
payload = b'x' * size
errors = [0]
def done(err, msg):
    if err is not None: errors[0] += 1
for i in range(count):
    while True:
        try:
            p.produce(topic, payload, key=b'key-%d' % (i % keys), on_delivery=done); break
        except BufferError:
            p.poll(0.01)
    if i % 10000 == 0: p.poll(0)
left = p.flush(120)
if left or errors[0]:
    print('undelivered %d, failed %d' % (left, errors[0]), file=sys.stderr); sys.exit(1)
`;

async function keyedLoad(bootstrap: string, topic: string, count: number, size: number, keys: number): Promise<void> {
  const r = await exec('/usr/bin/python3', ['-c', KEYED_LOADER_PY, bootstrap, topic, String(count), String(size), String(keys)]);
  if (r.code !== 0) throw new Error(`keyed loader failed (code ${r.code}): ${r.stderr.slice(-2000)}`);
}

// ---------------------------------------------------------------- references

/** Loopback TCP, node to node: the ceiling for any node server moving bytes over loopback. */
async function loopbackTcpMBps(totalMB = 1024): Promise<number> {
  const sink = `
    const net = require('net'); const total = ${totalMB} * 1048576; let got = 0, t0 = 0;
    const srv = net.createServer((s) => s.on('data', (d) => { if (!t0) t0 = performance.now(); got += d.length;
      if (got >= total) { console.log(JSON.stringify({ MBps: total / 1e6 / ((performance.now() - t0) / 1000) })); process.exit(0); } }));
    srv.listen(0, '127.0.0.1', () => console.error(srv.address().port));`;
  const source = `
    const net = require('net'); const chunk = Buffer.alloc(1048576, 7); let left = ${totalMB};
    const s = net.connect(Number(process.argv[1]), '127.0.0.1', function pump() { while (left > 0) { left--; if (!s.write(chunk)) { s.once('drain', pump); return; } } s.end(); });`;
  const child = spawn(process.execPath, ['-e', sink], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((r) => child.stderr.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await exec(process.execPath, ['-e', source, String(port)]);
  await exited;
  return (JSON.parse(out) as { MBps: number }).MBps;
}

/** Sequential 1 MiB writes of `mb` MB followed by fdatasync, with dd. */
async function ddFdatasyncMBps(dir: string, mb = 512): Promise<number> {
  const file = join(dir, 'dd-reference');
  const r = await exec('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${mb}`, 'conv=fdatasync']);
  rmSync(file, { force: true });
  const m = /copied, ([\d.]+) s/.exec(r.stderr);
  return m === null ? NaN : (mb * 1048576) / 1e6 / Number(m[1]);
}

// ---------------------------------------------------------------- workloads

type Sample = Record<string, number | string | null>;

interface Workload {
  name: string;
  needsRdkafkaBench: boolean;
  /** Runs only when BENCH_ONLY names it (long: it writes and cleans CLEANER_DIRTY_MB twice a run). */
  optIn?: boolean;
  run(): Promise<Sample>;
}

/** Runs `fn` against a fresh broker, then stops it cleanly. Without `dataDir`, a temporary
 * one is created and removed afterwards. */
async function withBroker<T>(overrides: Record<string, string>, fn: (b: BenchBroker) => Promise<T>, dataDir?: string, port?: number): Promise<{ result: T; usage: BrokerUsage; broker: BenchBroker }> {
  const dir = dataDir ?? tempDir('data-');
  try {
    const b = await BenchBroker.start(dir, overrides, port);
    try {
      const result = await fn(b);
      const usage = await b.stop();
      return { result, usage, broker: b };
    } catch (err) {
      b.kill();
      throw err;
    }
  } finally {
    if (dataDir === undefined) removeTemp(dir);
  }
}

async function ingest(partitions: number): Promise<Sample> {
  const dataDir = tempDir('data-');
  try {
    let cpu = 0;
    const { result: r, usage } = await withBroker(
      {},
      async (b) => {
        await createTopic(b.bootstrap, 'perf', partitions);
        const c0 = b.cpuSeconds();
        const r = await rdkafka('produce', [b.bootstrap, 'perf', String(INGEST_RECORDS), String(RECORD_BYTES), ...PRODUCE_PROPS]);
        cpu = b.cpuSeconds() - c0;
        return r;
      },
      dataDir,
    );
    const ref = await rdkafka('produce', ['unused:1', 'perf', String(INGEST_RECORDS), String(RECORD_BYTES), ...PRODUCE_PROPS, 'test.mock.num.brokers=1', 'log_level=3']);
    const dd = await ddFdatasyncMBps(dirname(dataDir));
    return {
      MBps: r.MBps,
      recordsPerS: r.msgsps,
      p50Ms: r.p50Ms ?? null,
      p99Ms: r.p99Ms ?? null,
      brokerCpuS: round(cpu, 2),
      brokerPeakRssMB: usage.peakRssMB,
      refMockBrokerMBps: ref.MBps,
      ratioToMockBroker: round(r.MBps / ref.MBps, 2),
      refDdFdatasyncMBps: round(dd),
      ratioToDdFdatasync: round(r.MBps / dd, 2),
    };
  } finally {
    removeTemp(dataDir);
  }
}

let groupsSupported: boolean | null = null;

/**
 * Ingest and fetch of the same records over PLAINTEXT, SSL and SASL_SSL (PLAIN) listeners of one
 * broker, in one run, so the cost of TLS and SASL shows beside plaintext on the same machine.
 */
async function securityWorkload(): Promise<Sample> {
  const certDir = tempDir('certs-');
  try {
    const certs = makeCertificates(certDir);
    const sslPort = await freePort();
    const saslPort = await freePort();
    const plainPort = await freePort();
    const listeners = `PLAINTEXT://127.0.0.1:${plainPort},SSL://127.0.0.1:${sslPort},SASL_SSL://127.0.0.1:${saslPort}`;
    const overrides = {
      listeners,
      'advertised.listeners': listeners,
      'ssl.keystore.type': 'PKCS12',
      'ssl.keystore.location': certs['serverP12']!,
      'ssl.keystore.password': 'secret-p12',
      'sasl.enabled.mechanisms': 'PLAIN',
      'listener.name.sasl_ssl.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_bench="bench-secret";',
    };
    const tls = ['security.protocol=SSL', `ssl.ca.location=${certs['ca']}`];
    const sasl = ['security.protocol=SASL_SSL', `ssl.ca.location=${certs['ca']}`, 'sasl.mechanisms=PLAIN', 'sasl.username=bench', 'sasl.password=bench-secret'];
    const runs: [string, number, string[]][] = [
      ['plaintext', plainPort, []],
      ['ssl', sslPort, tls],
      ['saslSsl', saslPort, sasl],
    ];
    const { result } = await withBroker(
      overrides,
      async (b) => {
        const out: Sample = {};
        for (const [name, port, props] of runs) {
          await createTopic(b.bootstrap, `perf-${name}`, 1);
          const bootstrap = `127.0.0.1:${port}`;
          const c0 = b.cpuSeconds();
          const produced = await rdkafka('produce', [bootstrap, `perf-${name}`, String(INGEST_RECORDS), String(RECORD_BYTES), ...PRODUCE_PROPS, ...props]);
          const c1 = b.cpuSeconds();
          const consumed = await rdkafka('consume', [bootstrap, `perf-${name}`, String(INGEST_RECORDS), ...FETCH_PROPS, ...props]);
          out[`${name}IngestMBps`] = round(produced.MBps);
          out[`${name}IngestBrokerCpuS`] = round(c1 - c0, 2);
          out[`${name}FetchMBps`] = round(consumed.MBps);
          out[`${name}FetchBrokerCpuS`] = round(b.cpuSeconds() - c1, 2);
        }
        return out;
      },
      undefined,
      plainPort,
    );
    return result;
  } finally {
    removeTemp(certDir);
  }
}

async function fetchWorkload(): Promise<Sample> {
  const dataDir = tempDir('data-');
  try {
    // Load the data with a first broker, then fetch it from a fresh one (clean restart), so the
    // fetch broker's CPU and peak RSS are its own.
    await withBroker(
      {},
      async (b) => {
        await createTopic(b.bootstrap, 'perf', 1);
        await rdkafka('produce', [b.bootstrap, 'perf', String(INGEST_RECORDS), String(RECORD_BYTES), ...PRODUCE_PROPS]);
      },
      dataDir,
    );
    let cpu = 0;
    let client = '';
    const { result, usage } = await withBroker(
      {},
      async (b) => {
        if (groupsSupported === null) {
          const keys = await advertisedApiKeys(b.bootstrap);
          groupsSupported = [10, 11, 12, 14].every((k) => keys.has(k)); // FindCoordinator, JoinGroup, Heartbeat, SyncGroup
        }
        const c0 = b.cpuSeconds();
        let r: { MBps: number; msgsps: number; seconds: number };
        if (groupsSupported) {
          client = 'rdkafka-bench consume (consumer group)';
          r = await rdkafka('consume', [b.bootstrap, 'perf', String(INGEST_RECORDS), ...FETCH_PROPS]);
        } else {
          // No group coordinator yet: kcat's simple consumer (assign, no group), timed from
          // spawn to exit at the end of the partition, so its start-up is included (conservative).
          // fetch.wait.max.ms=10: after the last record librdkafka has one more fetch parked on
          // the broker, and kcat's exit waits for it; with the default 500 ms that idle wait
          // would be most of the measurement. Fetches that find data return at once either way.
          client = 'kcat -C -e -X fetch.wait.max.ms=10 (no consumer group yet; wall time incl. kcat start-up)';
          const props = [...FETCH_PROPS, 'fetch.wait.max.ms=10'];
          const x = await exec('kcat', ['-b', b.bootstrap, '-C', '-t', 'perf', '-p', '0', '-o', 'beginning', '-e', '-q', '-f', 'x', ...props.flatMap((p) => ['-X', p])]);
          if (x.code !== 0 || x.stdout.length !== INGEST_RECORDS) throw new Error(`kcat read ${x.stdout.length} of ${INGEST_RECORDS} records (code ${x.code}): ${x.stderr.slice(-1000)}`);
          const bytes = INGEST_RECORDS * RECORD_BYTES;
          r = { MBps: bytes / 1e6 / x.seconds, msgsps: INGEST_RECORDS / x.seconds, seconds: x.seconds };
        }
        cpu = b.cpuSeconds() - c0;
        return r;
      },
      dataDir,
    );
    const tcp = await loopbackTcpMBps();
    return {
      client,
      MBps: round(result.MBps),
      recordsPerS: Math.round(result.msgsps),
      brokerCpuS: round(cpu, 2),
      brokerPeakRssMB: usage.peakRssMB,
      refLoopbackTcpMBps: round(tcp),
      ratioToLoopbackTcp: round(result.MBps / tcp, 3),
    };
  } finally {
    removeTemp(dataDir);
  }
}

async function latencyWorkload(): Promise<Sample> {
  let cpu = 0;
  const { result: r, usage } = await withBroker({}, async (b) => {
    await createTopic(b.bootstrap, 'lat', 1);
    const c0 = b.cpuSeconds();
    const r = await pacedProducer(b.bootstrap, 'lat');
    cpu = b.cpuSeconds() - c0;
    return r;
  });
  const ref = await pacedProducer('unused:1', 'lat', ['test.mock.num.brokers=1']);
  return {
    recordsPerS: Math.round(r.rate),
    p50Ms: round(r.p50Ms, 2),
    p99Ms: round(r.p99Ms, 2),
    maxMs: round(r.maxMs, 2),
    errors: r.errors,
    brokerCpuS: round(cpu, 2),
    brokerPeakRssMB: usage.peakRssMB,
    refMockBrokerP50Ms: round(ref.p50Ms, 2),
    refMockBrokerP99Ms: round(ref.p99Ms, 2),
    ratioP99ToMockBroker: round(r.p99Ms / ref.p99Ms, 2),
  };
}

/**
 * Produce latency, ingest and fetch while the log cleaner compacts a large dirty log, beside the
 * same measurements on the same data with the cleaner off (issue 12: produce p99 at most doubles
 * while it cleans). The dirty log is written with the cleaner disabled, then the broker restarts
 * with it on (or off) and the window starts at once: latency-5k's paced producer, an ingest of
 * its own topic, then a group fetch of that topic.
 */
async function cleanerRunning(): Promise<Sample> {
  const dirtyRecords = Math.round((CLEANER_DIRTY_MB * 1024 * 1024) / RECORD_BYTES);
  const measure = async (cleaning: boolean) => {
    const dataDir = tempDir('data-');
    try {
      await withBroker(
        { 'log.cleaner.enable': 'false' },
        async (b) => {
          await createTopic(b.bootstrap, 'dirty', 1, { 'cleanup.policy': 'compact', 'segment.bytes': String(16 * 1024 * 1024), 'min.cleanable.dirty.ratio': '0.01' });
          await createTopic(b.bootstrap, 'lat', 1);
          await createTopic(b.bootstrap, 'perf', 1);
          await keyedLoad(b.bootstrap, 'dirty', dirtyRecords, RECORD_BYTES, CLEANER_KEYS);
        },
        dataDir,
      );
      const { result } = await withBroker(
        { 'log.cleaner.enable': String(cleaning), 'log.cleaner.backoff.ms': '100' },
        async (b) => {
          const windowStart = Date.now();
          const latency = await pacedProducer(b.bootstrap, 'lat');
          const ingest = await rdkafka('produce', [b.bootstrap, 'perf', String(INGEST_RECORDS), String(RECORD_BYTES), ...PRODUCE_PROPS]);
          const fetch = await rdkafka('consume', [b.bootstrap, 'perf', String(INGEST_RECORDS), ...FETCH_PROPS]);
          const windowEnd = Date.now();
          let cleanerRound: Record<string, unknown> | null = null;
          for (let waited = 0; cleaning && cleanerRound === null; waited += 200) {
            if (waited > 600_000) throw new Error('the cleaner did not finish its round within 10 minutes');
            await sleep(200);
            cleanerRound = b.logLine('cleaned log', { topic: 'dirty' });
          }
          return { latency, ingest, fetch, windowStart, windowEnd, cleanerRound };
        },
        dataDir,
      );
      return result;
    } finally {
      removeTemp(dataDir);
    }
  };
  const off = await measure(false);
  const on = await measure(true);
  const cleanerRound = on.cleanerRound!;
  const roundEnd = Number(cleanerRound['time']);
  return {
    dirtyMB: CLEANER_DIRTY_MB,
    cleanerRoundMs: Number(cleanerRound['ms']),
    cleanerMBps: Number(cleanerRound['mbPerSecond']),
    // The round's synchronous time on the broker's event loop (planning and swaps), and its longest swap.
    cleanerEventLoopMs: Number(cleanerRound['eventLoopMs'] ?? NaN),
    cleanerMaxSwapMs: Number(cleanerRound['maxSwapMs'] ?? NaN),
    // The comparison holds only if the cleaner was still at work when the window closed.
    cleanerBusyThroughWindow: roundEnd > on.windowEnd ? 'yes' : `no: done ${roundEnd - on.windowStart} ms into a ${on.windowEnd - on.windowStart} ms window`,
    p50Ms_off: round(off.latency.p50Ms, 2),
    p50Ms_cleaning: round(on.latency.p50Ms, 2),
    p99Ms_off: round(off.latency.p99Ms, 2),
    p99Ms_cleaning: round(on.latency.p99Ms, 2),
    ratioP99CleaningToOff: round(on.latency.p99Ms / off.latency.p99Ms, 2),
    ingestMBps_off: off.ingest.MBps,
    ingestMBps_cleaning: on.ingest.MBps,
    fetchMBps_off: off.fetch.MBps,
    fetchMBps_cleaning: on.fetch.MBps,
  };
}

async function smallRecords(): Promise<Sample> {
  let cpu = 0;
  const { result: r, usage } = await withBroker({}, async (b) => {
    await createTopic(b.bootstrap, 'small', 1);
    const c0 = b.cpuSeconds();
    const r = await rdkafka('produce', [b.bootstrap, 'small', String(SMALL_RECORDS), String(SMALL_RECORD_BYTES), ...PRODUCE_PROPS]);
    cpu = b.cpuSeconds() - c0;
    return r;
  });
  const ref = await rdkafka('produce', ['unused:1', 'small', String(SMALL_RECORDS), String(SMALL_RECORD_BYTES), ...PRODUCE_PROPS, 'test.mock.num.brokers=1', 'log_level=3']);
  return {
    recordsPerS: r.msgsps,
    MBps: r.MBps,
    brokerCpuS: round(cpu, 2),
    brokerPeakRssMB: usage.peakRssMB,
    refMockBrokerRecordsPerS: ref.msgsps,
    ratioToMockBroker: round(r.msgsps / ref.msgsps, 2),
  };
}

async function idleMemory(): Promise<Sample> {
  let rss = 0;
  let emptyRss = 0;
  const { usage } = await withBroker({}, async (b) => {
    await sleep(1000);
    emptyRss = b.rssMB();
    await createTopic(b.bootstrap, 'many', MANY_PARTITIONS);
    await sleep(3000);
    rss = b.rssMB();
  });
  return { partitions: MANY_PARTITIONS, idleRssMB: round(rss), brokerPeakRssMB: usage.peakRssMB, refEmptyBrokerRssMB: round(emptyRss), ratioToEmptyBroker: round(rss / emptyRss, 2) };
}

async function startup(): Promise<Sample> {
  const dataDir = tempDir('data-');
  try {
    const records = Math.round((STARTUP_MB * 1e6) / RECORD_BYTES);
    await withBroker(
      {},
      async (b) => {
        await createTopic(b.bootstrap, 'many', MANY_PARTITIONS);
        await rdkafka('produce', [b.bootstrap, 'many', String(records), String(RECORD_BYTES), ...PRODUCE_PROPS]);
      },
      dataDir,
    );
    const onDisk = Number(tryRun('du', ['-sm', dataDir])?.split('\t')[0] ?? NaN);
    // After the clean shutdown above: spawn to the "started" line, then to a first fetched record.
    let firstFetchMs = 0;
    const t0 = performance.now();
    const { broker, usage } = await withBroker(
      {},
      async (b) => {
        // Any partition: the producer's sticky partitioner may leave some of the 1000 empty.
        const x = await exec('kcat', ['-b', b.bootstrap, '-C', '-t', 'many', '-o', 'beginning', '-c', '1', '-q', '-f', 'x']);
        if (x.stdout !== 'x') throw new Error(`no record fetched after restart: ${x.stderr.slice(-1000)}`);
        firstFetchMs = performance.now() - t0;
      },
      dataDir,
    );
    const emptyDir = tempDir('empty-');
    let emptyStartMs = 0;
    try {
      const e = await withBroker({}, async () => undefined, emptyDir);
      emptyStartMs = e.broker.startMs;
    } finally {
      removeTemp(emptyDir);
    }
    return {
      partitions: MANY_PARTITIONS,
      dataMB: onDisk,
      startToServingMs: Math.round(broker.startMs),
      startToFirstFetchedRecordMs: Math.round(firstFetchMs),
      brokerCpuS: round(usage.userSeconds + usage.systemSeconds, 2),
      brokerPeakRssMB: usage.peakRssMB,
      refEmptyBrokerStartMs: Math.round(emptyStartMs),
      ratioToEmptyBroker: round(broker.startMs / emptyStartMs, 2),
    };
  } finally {
    removeTemp(dataDir);
  }
}

// ---------------------------------------------------------------- client comparison

// Our tools against kafkajs and @platformatic/kafka (bench/client-perf.ts), one after another on
// the same broker: each producer writes the same number of records to a topic of its own, then
// each consumer (in a group) reads the records our producer wrote, from the beginning.
// MB/s counts record values only, 10^6 bytes per MB, from records/s (Kafka's tools print MiB).
const CLIENT_NODE = process.env['BENCH_CLIENT_NODE'] ?? process.execPath;
const CLIENT_NODE_ARGS = (process.env['BENCH_CLIENT_NODE_ARGS'] ?? '').split(/\s+/).filter((s) => s.length > 0);
const CLIENT_PRODUCE_PROPS = ['acks=1', 'linger.ms=5', 'batch.size=1000000', 'enable.idempotence=false'];
// Largest send() that stays one Produce request under the broker's default message.max.bytes
// (1 MiB per batch): ~880 KB of 100 B records, ~930 KB of 1 KiB records.
const CLIENT_SEND_BATCH: Record<number, number> = { 100: 8000, 1024: 900 };
const CLIENT_IN_FLIGHT = 5;
const CLIENT_FETCH_PARTITION_BYTES = 1_048_576; // max.partition.fetch.bytes, Kafka's default, for all three
const clientPerfScript = join(projectRoot, 'dist', 'bench', 'client-perf.js');

interface ClientRate {
  recordsPerS: number;
  MBps: number;
}

function rate(records: number, recordBytes: number, seconds: number): ClientRate {
  return { recordsPerS: Math.round(records / seconds), MBps: round((records * recordBytes) / 1e6 / seconds) };
}

async function ourProducerPerfTest(bootstrap: string, topic: string, records: number, size: number): Promise<ClientRate> {
  const args = [tributaryBin, 'producer-perf-test', '--bootstrap-server', bootstrap, '--topic', topic, '--num-records', String(records), '--record-size', String(size), '--throughput', '-1', '--reporting-interval', '600000'];
  for (const p of CLIENT_PRODUCE_PROPS) args.push('--producer-props', p);
  const r = await exec(CLIENT_NODE, [...CLIENT_NODE_ARGS, ...args]);
  // "N records sent, X records/sec (Y MB/sec), ..." (the last line)
  const m = /^(\d+) records sent, ([\d.]+) records\/sec/m.exec(r.stdout.trim().split('\n').pop() ?? '');
  if (r.code !== 0 || m === null || Number(m[1]) !== records) throw new Error(`producer-perf-test failed (code ${r.code}): ${r.stdout.slice(-500)} ${r.stderr.slice(-1500)}`);
  const recordsPerS = Number(m[2]);
  return { recordsPerS: Math.round(recordsPerS), MBps: round((recordsPerS * size) / 1e6) };
}

async function ourConsumerPerfTest(bootstrap: string, topic: string, records: number, size: number, group: string): Promise<ClientRate> {
  const args = [tributaryBin, 'consumer-perf-test', '--bootstrap-server', bootstrap, '--topic', topic, '--messages', String(records), '--group', group, '--fetch-size', String(CLIENT_FETCH_PARTITION_BYTES), '--timeout', '30000', '--hide-header'];
  const r = await exec(CLIENT_NODE, [...CLIENT_NODE_ARGS, ...args]);
  // start.time, end.time, MB, MB.sec, nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const fields = (r.stdout.trim().split('\n').pop() ?? '').split(', ');
  const count = Number(fields[4]);
  const fetchMs = Number(fields[7]);
  if (r.code !== 0 || count !== records || !(fetchMs > 0)) throw new Error(`consumer-perf-test failed (code ${r.code}): ${r.stdout.slice(-500)} ${r.stderr.slice(-1500)}`);
  // fetch.time.ms: from the end of the group join to the last record, as client-perf.ts measures.
  return rate(records, size, fetchMs / 1000);
}

async function otherClient(client: 'kafkajs' | 'platformatic', mode: 'produce' | 'consume', bootstrap: string, topic: string, records: number, size: number): Promise<ClientRate> {
  const extra = mode === 'produce' ? [String(size), String(CLIENT_SEND_BATCH[size] ?? Math.floor(900_000 / (size + 12))), String(CLIENT_IN_FLIGHT)] : [String(CLIENT_FETCH_PARTITION_BYTES)];
  const r = await exec(CLIENT_NODE, [...CLIENT_NODE_ARGS, clientPerfScript, client, mode, bootstrap, topic, String(records), ...extra]);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !line.startsWith('{')) throw new Error(`client-perf ${client} ${mode} failed (code ${r.code}): ${r.stderr.slice(-1500)}`);
  const out = JSON.parse(line) as { records: number; seconds: number };
  if (out.records !== records) throw new Error(`client-perf ${client} ${mode}: ${out.records} of ${records} records`);
  return rate(records, size, out.seconds);
}

async function clientComparison(records: number, size: number): Promise<Sample> {
  const sample: Sample = {};
  let brokerCpu = 0;
  const { usage } = await withBroker({}, async (b) => {
    const c0 = b.cpuSeconds();
    const produced: Record<string, ClientRate> = {};
    const consumed: Record<string, ClientRate> = {};
    for (const client of ['ours', 'kafkajs', 'platformatic'] as const) await createTopic(b.bootstrap, `cmp-${client}`, 1);
    produced['ours'] = await ourProducerPerfTest(b.bootstrap, 'cmp-ours', records, size);
    produced['kafkajs'] = await otherClient('kafkajs', 'produce', b.bootstrap, 'cmp-kafkajs', records, size);
    produced['platformatic'] = await otherClient('platformatic', 'produce', b.bootstrap, 'cmp-platformatic', records, size);
    // Every consumer reads the records our producer wrote.
    consumed['ours'] = await ourConsumerPerfTest(b.bootstrap, 'cmp-ours', records, size, 'cmp-ours');
    consumed['kafkajs'] = await otherClient('kafkajs', 'consume', b.bootstrap, 'cmp-ours', records, size);
    consumed['platformatic'] = await otherClient('platformatic', 'consume', b.bootstrap, 'cmp-ours', records, size);
    brokerCpu = b.cpuSeconds() - c0;
    for (const [mode, rates] of [['produce', produced], ['consume', consumed]] as const) {
      for (const client of ['ours', 'kafkajs', 'platformatic']) {
        sample[`${mode}_${client}_recordsPerS`] = rates[client]!.recordsPerS;
        sample[`${mode}_${client}_MBps`] = rates[client]!.MBps;
      }
      sample[`${mode}_ratioOursToKafkajs`] = round(rates['ours']!.recordsPerS / rates['kafkajs']!.recordsPerS, 2);
      sample[`${mode}_ratioOursToPlatformatic`] = round(rates['ours']!.recordsPerS / rates['platformatic']!.recordsPerS, 2);
    }
  });
  return { ...sample, brokerCpuS: round(brokerCpu, 2), brokerPeakRssMB: usage.peakRssMB };
}

// ---------------------------------------------------------------- transactional produce

// Our producer (bench/txn-perf.ts) writing TXN_PRODUCE_RECORDS records of RECORD_BYTES to one
// partition: idempotent, then in transactions of 100 and of 10,000 records, one after another on
// the same broker, each to a topic of its own. MB/s counts record values, 10^6 bytes per MB.
const TXN_PRODUCE_RECORDS = 100_000;
const TXN_SIZES = [100, 10_000] as const;
const txnPerfScript = join(projectRoot, 'dist', 'bench', 'txn-perf.js');

async function txnProduce(): Promise<Sample> {
  const sample: Sample = {};
  const { usage } = await withBroker({}, async (b) => {
    for (const txnRecords of [0, ...TXN_SIZES]) {
      const name = txnRecords === 0 ? 'idempotent' : `txn${txnRecords}`;
      const topic = `txn-perf-${name}`;
      await createTopic(b.bootstrap, topic, 1);
      const r = await exec(CLIENT_NODE, [...CLIENT_NODE_ARGS, txnPerfScript, b.bootstrap, topic, String(TXN_PRODUCE_RECORDS), String(RECORD_BYTES), String(txnRecords)]);
      const line = r.stdout.trim().split('\n').pop() ?? '';
      if (r.code !== 0 || !line.startsWith('{')) throw new Error(`txn-perf ${name} failed (code ${r.code}): ${r.stderr.slice(-1500)}`);
      const out = JSON.parse(line) as { records: number; transactions: number; seconds: number };
      const rt = rate(out.records, RECORD_BYTES, out.seconds);
      sample[`${name}_recordsPerS`] = rt.recordsPerS;
      sample[`${name}_MBps`] = rt.MBps;
      if (txnRecords > 0) sample[`${name}_txnPerS`] = round(out.transactions / out.seconds);
    }
    for (const n of TXN_SIZES) sample[`txn${n}_ratioToIdempotent`] = round((sample[`txn${n}_recordsPerS`] as number) / (sample['idempotent_recordsPerS'] as number), 2);
  });
  return { ...sample, brokerPeakRssMB: usage.peakRssMB };
}

// ---------------------------------------------------------------- main

const workloads: Workload[] = [
  { name: 'ingest-1p', needsRdkafkaBench: true, run: () => ingest(1) },
  { name: 'ingest-8p', needsRdkafkaBench: true, run: () => ingest(8) },
  { name: 'fetch', needsRdkafkaBench: true, run: fetchWorkload },
  { name: 'latency-5k', needsRdkafkaBench: false, run: latencyWorkload },
  { name: 'small-100B', needsRdkafkaBench: true, run: smallRecords },
  { name: 'idle-1000p', needsRdkafkaBench: false, run: idleMemory },
  { name: 'startup-1000p', needsRdkafkaBench: true, run: startup },
  { name: 'clients-100B', needsRdkafkaBench: false, run: () => clientComparison(SMALL_RECORDS, SMALL_RECORD_BYTES) },
  { name: 'clients-1KiB', needsRdkafkaBench: false, run: () => clientComparison(INGEST_RECORDS, RECORD_BYTES) },
  { name: 'security', needsRdkafkaBench: true, run: securityWorkload },
  { name: 'cleaner-running', needsRdkafkaBench: true, optIn: true, run: cleanerRunning },
  { name: 'txn-produce-1KiB', needsRdkafkaBench: false, run: txnProduce },
];

const DESCRIPTIONS: Record<string, string> = {
  'ingest-1p': `${INGEST_RECORDS} x ${RECORD_BYTES} B random records, 1 partition, ${PRODUCE_PROPS.join(' ')} (rdkafka-bench produce)`,
  'ingest-8p': `${INGEST_RECORDS} x ${RECORD_BYTES} B random records, 8 partitions, ${PRODUCE_PROPS.join(' ')} (rdkafka-bench produce)`,
  fetch: `the ${INGEST_RECORDS} x ${RECORD_BYTES} B records of one partition from the start, ${FETCH_PROPS.join(' ')}, after a clean restart`,
  'latency-5k': `${LATENCY_RATE} records/s of ${RECORD_BYTES} B for ${LATENCY_SECONDS} s, acks=1 linger.ms=0 (confluent-kafka, paced; librdkafka's produce-to-ack latency)`,
  'small-100B': `${SMALL_RECORDS} x ${SMALL_RECORD_BYTES} B records, 1 partition, ${PRODUCE_PROPS.join(' ')} (rdkafka-bench produce)`,
  'idle-1000p': `RSS of an idle broker 3 s after creating a topic of ${MANY_PARTITIONS} partitions`,
  'clients-100B': `client comparison: ${SMALL_RECORDS} x ${SMALL_RECORD_BYTES} B records, 1 partition, produced by tributary producer-perf-test (${CLIENT_PRODUCE_PROPS.join(' ')}), kafkajs and @platformatic/kafka (send() of ${CLIENT_SEND_BATCH[SMALL_RECORD_BYTES]} records, ${CLIENT_IN_FLIGHT} in flight, acks=1, idempotence off), then read from the beginning by each client's group consumer (max.partition.fetch.bytes=${CLIENT_FETCH_PARTITION_BYTES})`,
  'clients-1KiB': `client comparison: ${INGEST_RECORDS} x ${RECORD_BYTES} B records, as clients-100B (send() of ${CLIENT_SEND_BATCH[RECORD_BYTES]} records)`,
  'cleaner-running': `latency-5k, then ingest and fetch of ${INGEST_RECORDS} x ${RECORD_BYTES} B (as ingest-1p and fetch), measured while the log cleaner compacts ${CLEANER_DIRTY_MB} MiB of ${RECORD_BYTES} B records over ${CLEANER_KEYS} keys (one partition, 16 MiB segments), beside the same with log.cleaner.enable=false`,
  'txn-produce-1KiB': `our producer, ${TXN_PRODUCE_RECORDS} x ${RECORD_BYTES} B records to 1 partition, acks=all linger.ms=5 batch.size=1000000: idempotent, then transactional in transactions of ${TXN_SIZES.join(' and of ')} records (commitTransaction after each)`,
  'startup-1000p': `start-up after a clean shutdown: ${MANY_PARTITIONS} partitions holding ${STARTUP_MB} MB (BENCHMARKS.md's 10 GB scaled down)`,
};

async function main(): Promise<void> {
  buildRdkafkaBench();
  if (rdkafkaBench === null) process.stderr.write(`bench: skipping the librdkafka workloads: ${rdkafkaBenchProblem}\n`);
  if (!existsSync('/usr/bin/time')) process.stderr.write('bench: /usr/bin/time not found (apt-get install time); peak RSS and CPU come from /proc instead\n');
  const commit = tryRun('git', ['-C', projectRoot, 'rev-parse', '--short', 'HEAD'])?.trim() ?? 'unknown';
  const dirty = (tryRun('git', ['-C', projectRoot, 'status', '--porcelain', 'src'])?.trim() ?? '') !== '';
  const build = snapshotBuild();
  try {
    await runWorkloads(commit, dirty);
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

async function runWorkloads(commit: string, dirty: boolean): Promise<void> {
  for (const w of workloads) {
    if (ONLY.length > 0 ? !ONLY.includes(w.name) : w.optIn === true) continue;
    if (w.needsRdkafkaBench && rdkafkaBench === null) {
      console.log(JSON.stringify({ workload: w.name, skipped: `rdkafka-bench unavailable: ${rdkafkaBenchProblem}` }));
      continue;
    }
    const samples: Sample[] = [];
    for (let i = 0; i < RUNS; i++) {
      try {
        samples.push(await w.run());
      } catch (err) {
        process.stderr.write(`bench: ${w.name} run ${i + 1} failed: ${(err as Error).message}\n`);
        if ((err as Error).message.includes('exited during start-up')) break; // the build is broken; more runs will not help
      }
    }
    if (samples.length === 0) {
      console.log(JSON.stringify({ workload: w.name, failed: true }));
      continue;
    }
    const out: Record<string, unknown> = { workload: w.name, description: DESCRIPTIONS[w.name], commit: dirty ? `${commit}+dirty` : commit, date: new Date().toISOString(), runs: samples.length };
    for (const key of Object.keys(samples[0]!)) {
      const values = samples.map((s) => s[key]);
      if (values.every((v) => typeof v === 'number')) {
        out[key] = round(median(values as number[]), 3);
        out[`${key}Runs`] = values;
      } else {
        out[key] = values[0];
      }
    }
    console.log(JSON.stringify(out));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
