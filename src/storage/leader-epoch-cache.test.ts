import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatLeaderEpochCheckpoint, LeaderEpochCache, parseLeaderEpochCheckpoint, readLeaderEpochCheckpoint, type EpochEntry } from './leader-epoch-cache.js';
import { cleanup, tmpLogDir } from './test-helpers.js';

const entriesOf = (c: LeaderEpochCache): [number, number][] => c.entries().map((e) => [e.epoch, e.startOffset]);

function cacheWith(...entries: [number, number][]): LeaderEpochCache {
  const c = new LeaderEpochCache(null, 't-0');
  for (const [epoch, start] of entries) c.assign(epoch, start);
  return c;
}

describe('LeaderEpochCache', () => {
  test('assign appends new epochs, ignores the latest epoch again, and replaces an epoch that wrote nothing', () => {
    const c = new LeaderEpochCache(null, 't-0');
    assert.equal(c.latestEpoch, -1);
    assert.equal(c.assign(1, 0), true);
    assert.equal(c.assign(1, 10), false);
    assert.equal(c.assign(3, 10), true);
    assert.equal(c.assign(4, 10), true); // epoch 3 started at 10 and wrote nothing before epoch 4
    assert.deepEqual(entriesOf(c), [[1, 0], [4, 10]]);
    assert.equal(c.latestEpoch, 4);
  });

  test('assign refuses a lower epoch, a lower start offset and negative values', () => {
    const c = cacheWith([2, 5]);
    assert.throws(() => c.assign(1, 9), /older than the latest epoch 2/);
    assert.throws(() => c.assign(3, 4), /before the latest epoch 2/);
    assert.throws(() => c.assign(2, 4), /before the latest epoch 2/);
    assert.throws(() => c.assign(-1, 9), /negative/);
    assert.deepEqual(entriesOf(c), [[2, 5]]);
  });

  test("endOffsetFor follows Kafka's rules", () => {
    const c = cacheWith([2, 5], [4, 20], [7, 30]);
    const ask = (epoch: number) => {
      const r = c.endOffsetFor(epoch, 42);
      return [r.epoch, r.endOffset];
    };
    assert.deepEqual(ask(7), [7, 42]); // latest -> log end
    assert.deepEqual(ask(4), [4, 30]); // known older -> start of the next
    assert.deepEqual(ask(2), [2, 20]);
    assert.deepEqual(ask(5), [4, 30]); // between entries -> the largest below, start of the next
    assert.deepEqual(ask(3), [2, 20]);
    assert.deepEqual(ask(1), [1, 5]); // below every entry -> itself, start of the first
    assert.deepEqual(ask(8), [-1, -1]); // above the latest
    assert.deepEqual(ask(-1), [-1, -1]);
    assert.deepEqual([new LeaderEpochCache(null, 't-0').endOffsetFor(0, 9)].map((r) => [r.epoch, r.endOffset]), [[-1, -1]]);
  });

  test('truncateFromEnd drops entries starting at or after the new end', () => {
    const c = cacheWith([2, 5], [4, 20], [7, 30]);
    assert.equal(c.truncateFromEnd(31), false);
    assert.equal(c.truncateFromEnd(30), true);
    assert.deepEqual(entriesOf(c), [[2, 5], [4, 20]]);
    assert.equal(c.truncateFromEnd(6), true);
    assert.deepEqual(entriesOf(c), [[2, 5]]);
    assert.equal(c.truncateFromEnd(5), true);
    assert.deepEqual(entriesOf(c), []);
  });

  test('truncateFromStart drops entries ending before the new start and raises the covering one to it', () => {
    const c = cacheWith([2, 5], [4, 20], [7, 30]);
    assert.equal(c.truncateFromStart(5), false);
    assert.equal(c.truncateFromStart(3), false);
    assert.equal(c.truncateFromStart(25), true);
    assert.deepEqual(entriesOf(c), [[4, 25], [7, 30]]);
    assert.equal(c.truncateFromStart(30), true);
    assert.deepEqual(entriesOf(c), [[7, 30]]);
    assert.equal(c.truncateFromStart(100), true);
    assert.deepEqual(entriesOf(c), [[7, 100]]);
  });

  test('random sequences of assign and truncations agree with a plain model (seeded)', () => {
    // The model: the epoch of every offset below the log end, which is what the cache encodes.
    for (let seed = 1; seed <= 200; seed++) {
      let state = seed;
      const rand = (n: number): number => {
        state = (state * 1103515245 + 12345) % 2147483648;
        return state % n;
      };
      const cache = new LeaderEpochCache(null, 't-0');
      let epochOfOffset: number[] = []; // index = offset - logStart
      let logStart = 0;
      let epoch = 0;
      for (let step = 0; step < 60; step++) {
        const leo = logStart + epochOfOffset.length;
        const op = rand(10);
        if (op < 6) {
          if (rand(3) === 0) epoch += 1 + rand(3);
          const n = 1 + rand(5);
          if (epoch !== cache.latestEpoch) cache.assign(epoch, leo);
          for (let i = 0; i < n; i++) epochOfOffset.push(epoch);
        } else if (op < 8) {
          const to = logStart + rand(epochOfOffset.length + 1);
          cache.truncateFromEnd(to);
          epochOfOffset = epochOfOffset.slice(0, to - logStart);
          // A truncated log continues with an epoch above every one it has had.
          epoch++;
        } else {
          const from = logStart + rand(epochOfOffset.length + 1);
          cache.truncateFromStart(from);
          epochOfOffset = epochOfOffset.slice(from - logStart);
          logStart = from;
        }
        // The cache must say: each offset's epoch, and nothing starting past the log end.
        const entries = cache.entries();
        const end = logStart + epochOfOffset.length;
        for (const e of entries) assert.ok(e.startOffset <= end, `seed ${seed}: entry (${e.epoch}, ${e.startOffset}) past the log end ${end}`);
        for (let i = 0; i < epochOfOffset.length; i++) {
          const offset = logStart + i;
          let found: EpochEntry | undefined;
          for (const e of entries) if (e.startOffset <= offset) found = e;
          assert.equal(found?.epoch, epochOfOffset[i], `seed ${seed} step ${step}: epoch of offset ${offset}`);
        }
        if (epochOfOffset.length > 0) assert.ok(entries[0]!.startOffset >= logStart, `seed ${seed}: first entry below the log start`);
        // endOffsetFor(e) for each epoch in the log = one past its last offset, or the log end.
        for (const e of new Set(epochOfOffset)) {
          const last = logStart + epochOfOffset.lastIndexOf(e);
          const r = cache.endOffsetFor(e, end);
          assert.equal(r.epoch, e, `seed ${seed}: epoch ${e}`);
          assert.equal(r.endOffset, e === cache.latestEpoch ? end : last + 1, `seed ${seed}: end offset of epoch ${e}`);
        }
      }
    }
  });
});

describe('leader-epoch-checkpoint file', () => {
  test("round-trips in Kafka's text format through a file written atomically", () => {
    const dir = tmpLogDir();
    try {
      const file = path.join(dir, 'leader-epoch-checkpoint');
      const c = new LeaderEpochCache(file, 't-0');
      assert.equal(fs.existsSync(file), false); // nothing written before a change
      c.assign(0, 0);
      c.assign(5, 120);
      assert.equal(fs.readFileSync(file, 'utf8'), '0\n2\n0 0\n5 120\n');
      assert.deepEqual(readLeaderEpochCheckpoint(file), { entries: [{ epoch: 0, startOffset: 0 }, { epoch: 5, startOffset: 120 }], problem: null });
      c.truncateFromEnd(120);
      assert.equal(fs.readFileSync(file, 'utf8'), '0\n1\n0 0\n');
      assert.deepEqual(fs.readdirSync(dir), ['leader-epoch-checkpoint']); // no temp file left
      assert.deepEqual(readLeaderEpochCheckpoint(path.join(dir, 'missing')), { entries: null, problem: null });
    } finally {
      cleanup(dir);
    }
  });

  test('a truncated file, garbage, a wrong count or entries out of order are reported, not thrown', () => {
    const good = formatLeaderEpochCheckpoint([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 50 }]);
    assert.deepEqual(parseLeaderEpochCheckpoint(good), [{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 50 }]);
    const bad = [good.slice(0, good.length - 4), good.slice(0, 3), '', '\u0000\u0000\u0000', 'garbage\n', '1\n0\n', '0\n3\n1 0\n3 50\n', '0\n2\n3 0\n1 50\n', '0\n2\n1 50\n3 50\n', '0\n1\n1 -5\n', '0\n1\n1 5 6\n'];
    const dir = tmpLogDir();
    try {
      const file = path.join(dir, 'leader-epoch-checkpoint');
      for (const text of bad) {
        assert.throws(() => parseLeaderEpochCheckpoint(text), Error, JSON.stringify(text));
        fs.writeFileSync(file, text);
        const r = readLeaderEpochCheckpoint(file);
        assert.equal(r.entries, null, JSON.stringify(text));
        assert.match(r.problem ?? '', /leader-epoch-checkpoint/);
      }
    } finally {
      cleanup(dir);
    }
  });
});
