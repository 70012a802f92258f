// Fault injection on a data directory: known records are produced (kcat, idempotent, in several
// batches), the broker is stopped cleanly or killed, and then each kind of file is damaged in
// turn on a copy of that directory: the active segment's tail and middle, both indexes, the
// producer snapshot, both checkpoints, partition.metadata, meta.properties and the metadata log.
// For each, the restarted broker either recovers, with every record before the damage intact at
// its offset, or refuses to start with exit code 1 and a message naming the damaged file; and in
// neither case does it delete or rewrite data it could not read (a segment only ever loses a torn
// tail, with a WARN naming the file).
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BrokerProcess, tempDir } from '../helpers/broker-process.js';
import { kcat } from '../helpers/clients.js';
import { assertOk, eventually, kcatConsume, kcatProduce, type ConsumedRecord } from './support.js';

const TOPIC = 'faults';
const OVERRIDES = { 'num.partitions': '1', 'log.index.interval.bytes': '256' };
const PRODUCE_ARGS = ['-p', '0', '-X', 'enable.idempotence=true'];

/** Records `from`..`from + count - 1`, one kcat run (one idempotent producer, one batch) per ten,
 *  so that batches carry increasing timestamps and the time index gets entries. */
async function produceRecords(bootstrap: string, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i += 10) {
    await kcatProduce(bootstrap, TOPIC, Array.from({ length: Math.min(10, from + count - i) }, (_, j) => `k${i + j}:value-${i + j}`), PRODUCE_ARGS);
  }
}

interface BatchPosition {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
}

/** The batches of a segment file, read from their headers. */
function batchesOf(file: string): BatchPosition[] {
  const buf = readFileSync(file);
  const out: BatchPosition[] = [];
  for (let pos = 0; pos + 61 <= buf.length; ) {
    const size = buf.readInt32BE(pos + 8) + 12;
    const baseOffset = Number(buf.readBigInt64BE(pos));
    out.push({ position: pos, size, baseOffset, lastOffset: baseOffset + buf.readInt32BE(pos + 23) });
    pos += size;
  }
  return out;
}

/** Overwrites `length` bytes at `position` with a pattern no valid file holds there. */
function scribble(file: string, position: number, length: number): void {
  const buf = readFileSync(file);
  for (let i = position; i < Math.min(buf.length, position + length); i++) buf[i] = (buf[i]! ^ 0xa5) + 1;
  writeFileSync(file, buf);
}

const segment = (dir: string) => join(dir, `${TOPIC}-0`, '00000000000000000000.log');
const metadataSegment = (dir: string) => join(dir, '__cluster_metadata-0', '00000000000000000000.log');

function newestSnapshot(dir: string): string {
  const names = readdirSync(join(dir, `${TOPIC}-0`)).filter((n) => n.endsWith('.snapshot')).sort();
  assert.ok(names.length > 0, 'no producer snapshot to damage');
  return join(dir, `${TOPIC}-0`, names[names.length - 1]!);
}

/**
 * Position of the last entry of an index file: entries increase in both keys; a file left
 * preallocated by a crash has zeros after them.
 */
function lastEntryAt(index: Buffer, entrySize: number, first: (at: number) => number, second: (at: number) => number): number {
  let last = -1;
  for (let at = 0; at + entrySize <= index.length; at += entrySize) {
    if (last >= 0 && (first(at) <= first(last) || second(at) < second(last))) break;
    last = at;
  }
  assert.ok(last >= 0, 'the index has no entry to damage');
  return last;
}

type Outcome =
  /** Starts; every record is there. */
  | { kind: 'recovers' }
  /** Starts; every record below `offset` is there (the damaged batch and what follows may not be). */
  | { kind: 'recoversBefore'; offset: number }
  /** Exit code 1 and a message naming the damaged file. */
  | { kind: 'refuses' };

interface FaultCase {
  name: string;
  /** Damages the copied data dir; returns the damaged file. */
  damage(dir: string): string;
  outcome(variant: Variant): Outcome;
  /** Whether a broker that recovers must say so in a WARN naming the damaged file. */
  warns?(variant: Variant): boolean;
  /** More checks on the recovered broker, given the records the data dir held. */
  verify?(broker: BrokerProcess, records: ConsumedRecord[]): Promise<void>;
}

/** Set by the time index case's damage(): a timestamp whose lookup the damage would get wrong. */
let timeLookup = 0;

type Variant = 'clean shutdown' | 'crash';

const cases: FaultCase[] = [
  {
    name: 'segment tail (inside the last batch)',
    damage: (dir) => {
      const last = batchesOf(segment(dir)).at(-1)!;
      scribble(segment(dir), last.position + last.size - 20, 8);
      return segment(dir);
    },
    // After a clean shutdown only headers are checked, so the batch is served as it is; after a
    // crash validation finds it and, nothing valid behind it, cuts it as a torn tail.
    outcome: (v) => ({ kind: 'recoversBefore', offset: v === 'crash' ? lastBatchBase('crash') : lastBatchBase('clean shutdown') }),
  },
  {
    name: 'segment middle (a batch with valid batches behind it)',
    damage: (dir) => {
      const middle = batchesOf(segment(dir))[8]!;
      scribble(segment(dir), middle.position + middle.size - 20, 8);
      return segment(dir);
    },
    // Found only by validation (after a crash); valid data behind it must not be cut away.
    outcome: (v) => (v === 'crash' ? { kind: 'refuses' } : { kind: 'recoversBefore', offset: goldenBatches[8]!.baseOffset }),
  },
  {
    name: 'segment header of the last batch',
    damage: (dir) => {
      const last = batchesOf(segment(dir)).at(-1)!;
      scribble(segment(dir), last.position + 8, 4); // its length
      return segment(dir);
    },
    outcome: (v) => ({ kind: 'recoversBefore', offset: lastBatchBase(v) }),
  },
  {
    name: 'offset index',
    damage: (dir) => {
      const file = segment(dir).replace(/\.log$/, '.index');
      const index = readFileSync(file);
      // The last entry: still increasing, but pointing into the middle of a batch.
      const at = lastEntryAt(index, 8, (i) => index.readInt32BE(i), (i) => index.readInt32BE(i + 4));
      index.writeInt32BE(index.readInt32BE(at + 4) + 7, at + 4);
      writeFileSync(file, index);
      return file;
    },
    outcome: () => ({ kind: 'recovers' }),
    warns: (v) => v === 'clean shutdown',
  },
  {
    name: 'time index',
    damage: (dir) => {
      const file = segment(dir).replace(/\.log$/, '.timeindex');
      const index = readFileSync(file);
      // Entries 1 and 2 name the offset of entry 3 (still in order, and the last entry is
      // untouched): a search for a time just after entry 1's would start two batches too late.
      const last = lastEntryAt(index, 12, (i) => Number(index.readBigInt64BE(i)), (i) => index.readInt32BE(i + 8));
      assert.ok(last >= 36, 'the test needs four time index entries');
      timeLookup = Number(index.readBigInt64BE(12)) + 1;
      index.writeInt32BE(index.readInt32BE(36 + 8), 12 + 8);
      index.writeInt32BE(index.readInt32BE(36 + 8), 24 + 8);
      writeFileSync(file, index);
      return file;
    },
    outcome: () => ({ kind: 'recovers' }),
    warns: (v) => v === 'clean shutdown', // after a crash, recovery rebuilds every index anyway
    verify: async (broker, records) => {
      const q = await kcat(['-Q', '-b', broker.bootstrap, '-t', `${TOPIC}:0:${timeLookup}`]);
      assertOk(q, 'kcat -Q');
      const expected = records.find((r) => r.timestamp >= timeLookup)!;
      assert.match(q.stdout, new RegExp(`\\[0\\] offset ${expected.offset}\\b`), `offset for time ${timeLookup}: ${q.stdout}`);
    },
  },
  {
    name: 'producer snapshot',
    damage: (dir) => {
      const file = newestSnapshot(dir);
      scribble(file, 12, 8);
      return file;
    },
    outcome: () => ({ kind: 'recovers' }),
    warns: () => true,
  },
  {
    name: 'recovery-point-offset-checkpoint',
    damage: (dir) => {
      const file = join(dir, 'recovery-point-offset-checkpoint');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/ (\d+)\n/g, ' x$1\n'));
      return file;
    },
    outcome: () => ({ kind: 'recovers' }),
    warns: () => true,
  },
  {
    name: 'log-start-offset-checkpoint',
    damage: (dir) => {
      const file = join(dir, 'log-start-offset-checkpoint');
      scribble(file, 2, 6);
      return file;
    },
    outcome: () => ({ kind: 'refuses' }),
  },
  {
    name: 'partition.metadata',
    damage: (dir) => {
      const file = join(dir, `${TOPIC}-0`, 'partition.metadata');
      scribble(file, 12, 10);
      return file;
    },
    outcome: () => ({ kind: 'recovers' }),
    warns: () => true,
  },
  {
    name: 'meta.properties',
    damage: (dir) => {
      const file = join(dir, 'meta.properties');
      scribble(file, 25, 30);
      return file;
    },
    outcome: () => ({ kind: 'refuses' }),
  },
  {
    name: 'metadata log',
    damage: (dir) => {
      const first = batchesOf(metadataSegment(dir))[0]!;
      scribble(metadataSegment(dir), first.position + first.size - 10, 4);
      return metadataSegment(dir);
    },
    outcome: () => ({ kind: 'refuses' }),
  },
];

// Filled in before(): the records and batches each variant's data dir holds.
const golden = new Map<Variant, { dir: string; records: ConsumedRecord[]; batches: BatchPosition[] }>();
let goldenBatches: BatchPosition[] = [];
const lastBatchBase = (v: Variant) => golden.get(v)!.batches.at(-1)!.baseOffset;

/** Every regular file under `dir` with its size, for "nothing was deleted" checks. */
function fileSizes(dir: string, prefix = ''): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = join(prefix, e.name);
    if (e.isDirectory()) for (const [k, v] of fileSizes(dir, rel)) out.set(k, v);
    else out.set(rel, statSync(join(dir, rel)).size);
  }
  return out;
}

describe('fault injection on a data directory', () => {
  const temps: string[] = [];
  const brokers: BrokerProcess[] = [];

  before(async () => {
    const broker = new BrokerProcess({ overrides: OVERRIDES });
    brokers.push(broker);
    await broker.start();
    await produceRecords(broker.bootstrap, 0, 200);
    const records = await kcatConsume(broker.bootstrap, TOPIC, 'beginning', ['-p', '0']);
    assert.equal(records.length, 200);
    assert.equal(await broker.stop(), 0);
    const cleanDir = tempDir('tributary-faults-clean-');
    temps.push(cleanDir);
    cpSync(broker.dataDir, cleanDir, { recursive: true });
    goldenBatches = batchesOf(segment(cleanDir));
    assert.ok(goldenBatches.length >= 12, `expected many batches, got ${goldenBatches.length}`);
    golden.set('clean shutdown', { dir: cleanDir, records, batches: goldenBatches });

    // The crash variant: 50 more acknowledged records after a clean restart, then SIGKILL.
    const crashDir = tempDir('tributary-faults-crash-');
    temps.push(crashDir);
    cpSync(cleanDir, crashDir, { recursive: true });
    const crashing = new BrokerProcess({ dataDir: crashDir, overrides: OVERRIDES });
    brokers.push(crashing);
    await crashing.start();
    await produceRecords(crashing.bootstrap, 200, 50);
    const crashRecords = await kcatConsume(crashing.bootstrap, TOPIC, 'beginning', ['-p', '0']);
    assert.equal(crashRecords.length, 250);
    await crashing.kill();
    assert.equal(existsSync(join(crashDir, '.kafka_cleanshutdown')), false);
    golden.set('crash', { dir: crashDir, records: crashRecords, batches: batchesOf(segment(crashDir)) });
  });

  after(async () => {
    for (const b of brokers) await b.destroy();
    for (const t of temps) rmSync(t, { recursive: true, force: true });
  });

  for (const variant of ['clean shutdown', 'crash'] as const) {
    for (const c of cases) {
      it(`${c.name}, after a ${variant}`, async () => {
        const g = golden.get(variant)!;
        const dir = tempDir('tributary-fault-');
        temps.push(dir);
        cpSync(g.dir, dir, { recursive: true });
        const damagedFile = c.damage(dir);
        const damagedBytes = readFileSync(damagedFile);
        const filesBefore = fileSizes(dir);
        const segmentBefore = readFileSync(segment(dir));
        const metadataBefore = readFileSync(metadataSegment(dir));

        const broker = new BrokerProcess({ dataDir: dir, overrides: OVERRIDES });
        brokers.push(broker);
        const started = await broker.startOrExit();
        const outcome = c.outcome(variant);

        // Whatever happened: no partition directory and no segment file is gone, and a segment
        // only lost bytes at its end when a WARN says so.
        assert.ok(existsSync(join(dir, `${TOPIC}-0`)) && existsSync(join(dir, '__cluster_metadata-0')), 'a partition directory was deleted');
        const segmentAfter = readFileSync(segment(dir));
        if (!segmentAfter.equals(segmentBefore)) {
          assert.ok(segmentBefore.subarray(0, segmentAfter.length).equals(segmentAfter), 'the segment was rewritten, not just cut');
          assert.match(broker.logs, new RegExp(`"level":40.*"file":"${segment(dir)}".*"msg":"recovery truncated the log"`), 'a segment was cut without a WARN');
        }
        // Start-up appends its broker registration; nothing already in the metadata log changes.
        const metadataAfter = readFileSync(metadataSegment(dir));
        assert.ok(metadataAfter.length >= metadataBefore.length && metadataAfter.subarray(0, metadataBefore.length).equals(metadataBefore), 'the metadata log was rewritten or cut');
        for (const [file, size] of filesBefore) {
          if (/\.(index|timeindex|snapshot|tmp)$|checkpoint$|partition\.metadata$|^\.kafka_cleanshutdown$|^\.lock$/.test(file)) continue; // derived or rewritten by design
          assert.ok(existsSync(join(dir, file)), `${file} was deleted`);
          if (!file.endsWith('.log')) assert.equal(statSync(join(dir, file)).size, size, `${file} changed size`);
        }

        if (outcome.kind === 'refuses') {
          assert.equal(started.started, false, `the broker started despite damage in ${damagedFile}`);
          if (started.started) return;
          assert.equal(started.code, 1, started.output);
          assert.ok(started.output.includes(damagedFile), `the message should name ${damagedFile}:\n${started.output}`);
          assert.ok(readFileSync(damagedFile).equals(damagedBytes), 'the damaged file was changed');
          return;
        }
        assert.equal(started.started, true, started.started ? '' : started.output);
        const expected = outcome.kind === 'recovers' ? g.records : g.records.filter((r) => r.offset < outcome.offset);
        const extra = outcome.kind === 'recovers' ? [] : ['-c', String(expected.length)];
        const got = await kcatConsume(broker.bootstrap, TOPIC, 'beginning', ['-p', '0', ...extra]);
        assert.deepEqual(
          got.map((r) => `${r.offset}=${r.key}:${r.value}`),
          expected.map((r) => `${r.offset}=${r.key}:${r.value}`),
        );
        await c.verify?.(broker, g.records);
        if (c.warns?.(variant) === true) {
          const warned = () => broker.logs.split('\n').some((l) => l.includes('"level":40') && l.includes(damagedFile));
          await eventually(`a WARN naming ${damagedFile}`, () => (warned() ? true : undefined), 5000);
        }
        // The broker serves appends after whatever it recovered to.
        await kcatProduce(broker.bootstrap, TOPIC, ['after:damage'], ['-p', '0']);
        const tail = await kcatConsume(broker.bootstrap, TOPIC, '-1', ['-p', '0']);
        assert.deepEqual(tail.map((r) => r.value), ['damage']);
        assert.equal(await broker.stop(), 0);
      });
    }
  }
});
