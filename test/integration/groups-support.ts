// Consumer-group test support: a confluent-kafka (librdkafka) consumer running in its own Python
// process, reporting assignments, revocations, messages and commits as JSON lines with wall-clock
// timestamps (so events of several processes can be merged into one timeline), and taking
// commands on stdin ("commit", "close").
import { spawn, type ChildProcess } from 'node:child_process';
import { systemPython } from '../helpers/clients.js';

const CONSUMER_SCRIPT = String.raw`
import json, select, sys, time
import confluent_kafka as ck
bootstrap, group, topic, extra = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
def out(ev, **kw):
    kw['ev'] = ev
    kw['t'] = time.time_ns() // 1000
    print(json.dumps(kw), flush=True)
conf = {'bootstrap.servers': bootstrap, 'group.id': group, 'auto.offset.reset': 'earliest',
        'enable.auto.commit': False, 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500,
        'topic.metadata.refresh.interval.ms': 1000}
for k, v in extra.items():
    # None removes a default (group.protocol=consumer refuses session.timeout.ms and heartbeat.interval.ms)
    if v is None: conf.pop(k, None)
    else: conf[k] = v
c = ck.Consumer(conf)
def on_assign(cons, parts):
    out('assign', parts=[p.partition for p in parts])
def on_revoke(cons, parts):
    out('revoke', parts=[p.partition for p in parts])
def on_lost(cons, parts):
    out('lost', parts=[p.partition for p in parts])
c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
out('started')
while True:
    m = c.poll(0.1)
    if m is not None:
        if m.error():
            out('error', error=str(m.error()))
        else:
            out('msg', partition=m.partition(), offset=m.offset(), value=m.value().decode())
    r, _, _ = select.select([sys.stdin], [], [], 0)
    if r:
        line = sys.stdin.readline().strip()
        if line == 'commit':
            try:
                res = c.commit(asynchronous=False)
                out('committed', offsets=[[p.partition, p.offset] for p in (res or [])])
            except Exception as e:
                out('commit-failed', error=str(e))
        elif line == 'close' or line == '':
            c.close()
            out('closed')
            break
`;

export interface ConsumerEvent {
  ev: string;
  t: number;
  parts?: number[];
  partition?: number;
  offset?: number;
  value?: string;
  error?: string;
  protocol?: string;
  offsets?: [number, number][];
}

export class PyConsumer {
  readonly events: ConsumerEvent[] = [];
  private stderr = '';
  private readonly child: ChildProcess;
  private readonly listeners = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    bootstrap: string,
    group: string,
    topic: string,
    extra: Record<string, string | number | boolean | null> = {},
    env: Record<string, string> = {},
  ) {
    this.child = spawn(systemPython, ['-u', '-c', CONSUMER_SCRIPT, bootstrap, group, topic, JSON.stringify(extra)], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let partial = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      partial += chunk.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          this.events.push(JSON.parse(line) as ConsumerEvent);
        } catch {
          this.stderr += `unparsed: ${line}\n`;
        }
      }
      for (const l of [...this.listeners]) l();
    });
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.child.stdin!.on('error', () => {});
    this.exited = new Promise((r) => this.child.once('exit', (code) => r(code)));
  }

  get log(): string {
    return `${this.name} events: ${JSON.stringify(this.events.filter((e) => e.ev !== 'msg'))}\nstderr: ${this.stderr.slice(-3000)}`;
  }

  /** Partitions owned now: everything assigned minus everything revoked or lost since. */
  owned(): Set<number> {
    return ownedAfter(this.events, Number.POSITIVE_INFINITY);
  }

  messages(): ConsumerEvent[] {
    return this.events.filter((e) => e.ev === 'msg');
  }

  /** Resolves with the first event (from index `from`) matching `pred`; rejects after timeoutMs. */
  waitFor(what: string, pred: (e: ConsumerEvent) => boolean, timeoutMs = 30_000, from = 0): Promise<ConsumerEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.slice(from).find(pred);
        if (found !== undefined) {
          cleanup();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: timed out waiting for ${what}\n${this.log}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Waits until `cond()` holds, re-checked on every event of this consumer. */
  until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
    return this.waitFor(what, () => cond(), timeoutMs).then(() => undefined);
  }

  send(command: 'commit' | 'close'): void {
    this.child.stdin!.write(`${command}\n`);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.send('close');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL: the member disappears without leaving the group. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

export function ownedAfter(events: readonly ConsumerEvent[], t: number): Set<number> {
  const owned = new Set<number>();
  for (const e of events) {
    if (e.t > t) break;
    if (e.ev === 'assign') for (const p of e.parts!) owned.add(p);
    else if (e.ev === 'revoke' || e.ev === 'lost') for (const p of e.parts!) owned.delete(p);
    else if (e.ev === 'closed') owned.clear();
  }
  return owned;
}

/**
 * Replays the assignment events of all consumers in timestamp order and returns the first moment
 * a partition was owned by two members at once, or null. A killed member's ownership ends at its
 * kill time (`endedAt`).
 */
export function findDoubleOwnership(consumers: readonly PyConsumer[], endedAt: Map<PyConsumer, number> = new Map()): string | null {
  const timeline = consumers.flatMap((c) => c.events.filter((e) => e.ev === 'assign' || e.ev === 'revoke' || e.ev === 'lost' || e.ev === 'closed').map((e) => ({ c, e })));
  for (const [c, t] of endedAt) timeline.push({ c, e: { ev: 'closed', t } });
  timeline.sort((a, b) => a.e.t - b.e.t);
  const owners = new Map<PyConsumer, Set<number>>(consumers.map((c) => [c, new Set<number>()]));
  for (const { c, e } of timeline) {
    const mine = owners.get(c)!;
    if (e.ev === 'assign') {
      for (const p of e.parts!) {
        for (const [other, set] of owners) {
          if (other !== c && set.has(p)) return `partition ${p} assigned to ${c.name} at ${e.t} while ${other.name} still owned it`;
        }
        mine.add(p);
      }
    } else if (e.ev === 'closed') mine.clear();
    else for (const p of e.parts!) mine.delete(p);
  }
  return null;
}

/** Owned sets of all consumers are disjoint and together cover 0..partitions-1. */
export function isCompleteSplit(consumers: readonly PyConsumer[], partitions: number): boolean {
  const seen = new Set<number>();
  for (const c of consumers) {
    for (const p of c.owned()) {
      if (seen.has(p)) return false;
      seen.add(p);
    }
  }
  return seen.size === partitions;
}
