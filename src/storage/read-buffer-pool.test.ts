import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLogConfig } from './config.js';
import { ManualClock } from './clock.js';
import { MemoryPartitionLog } from './memory-partition-log.js';
import { PartitionLog } from './partition-log.js';
import { ReadBufferPool } from './read-buffer-pool.js';
import { appendCommitted, batchBaseOffsets, cleanup, makeBatch, tmpLogDir } from './test-helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('ReadBufferPool', () => {
  test('acquire(n) gives at least n bytes, from power-of-two classes between the bounds', () => {
    const pool = new ReadBufferPool();
    for (const [n, capacity] of [
      [16 * KiB, 64 * KiB],
      [64 * KiB, 64 * KiB],
      [64 * KiB + 1, 128 * KiB],
      [1 * MiB, 1 * MiB],
      [1 * MiB + 1, 2 * MiB],
      [16 * MiB, 16 * MiB],
    ]) {
      const buf = pool.acquire(n!);
      assert.equal(buf.length, capacity, `acquire(${n})`);
      assert.ok(pool.isPooled(buf));
      pool.release(buf);
    }
  });

  test('sizes below minPooledBytes or above the largest class are plain, unpooled allocations', () => {
    const pool = new ReadBufferPool();
    const small = pool.acquire(100);
    const large = pool.acquire(16 * MiB + 1);
    assert.equal(small.length, 100);
    assert.equal(large.length, 16 * MiB + 1);
    assert.equal(pool.isPooled(small), false);
    assert.equal(pool.isPooled(large), false);
    pool.release(small); // ignored
    pool.release(large);
    assert.equal(pool.stats().idleBuffers, 0);
    assert.equal(pool.stats().outstandingBuffers, 0);
  });

  test('never hands out a buffer that is in use; a released one is reused', () => {
    const pool = new ReadBufferPool();
    const inUse = new Set<Buffer>();
    for (let i = 0; i < 50; i++) {
      const buf = pool.acquire(1 * MiB);
      assert.equal(inUse.has(buf), false, 'handed out twice');
      inUse.add(buf);
    }
    const [first] = inUse;
    pool.release(first!);
    inUse.delete(first!);
    const again = pool.acquire(1 * MiB);
    assert.equal(again, first, 'the released buffer is reused');
    const fresh = pool.acquire(1 * MiB);
    assert.notEqual(fresh, again);
    assert.equal(inUse.has(fresh), false);
    assert.equal(pool.stats().outstandingBuffers, 51);
    assert.equal(pool.stats().reused, 1);
  });

  test('buffers of one class are never handed out for another', () => {
    const pool = new ReadBufferPool();
    const small = pool.acquire(64 * KiB);
    pool.release(small);
    const big = pool.acquire(128 * KiB);
    assert.notEqual(big, small);
    assert.equal(big.length, 128 * KiB);
  });

  test('releasing twice, or releasing a buffer the pool did not hand out, throws', () => {
    const pool = new ReadBufferPool();
    const buf = pool.acquire(256 * KiB);
    pool.release(buf);
    assert.throws(() => pool.release(buf), /not handed out/);
    assert.throws(() => pool.release(Buffer.alloc(256 * KiB)), /not handed out/);
    // The failed releases did not put the buffer in the pool a second time.
    const a = pool.acquire(256 * KiB);
    const b = pool.acquire(256 * KiB);
    assert.notEqual(a, b);
  });

  test('idle buffers never exceed maxIdleBytes; releases past it are dropped', () => {
    const pool = new ReadBufferPool({ maxIdleBytes: 4 * MiB });
    const bufs = Array.from({ length: 10 }, () => pool.acquire(1 * MiB));
    for (const b of bufs) pool.release(b);
    const s = pool.stats();
    assert.equal(s.idleBytes, 4 * MiB);
    assert.equal(s.idleBuffers, 4);
    assert.equal(s.dropped, 6);
    assert.equal(s.outstandingBuffers, 0);
    // A larger class does not fit beside them: dropped as well.
    const big = pool.acquire(2 * MiB);
    pool.release(big);
    assert.equal(pool.stats().idleBytes, 4 * MiB);
    assert.equal(pool.stats().dropped, 7);
  });

  test('refuses size classes that are not powers of two', () => {
    assert.throws(() => new ReadBufferPool({ minClassBytes: 3000 }), /powers of two/);
    assert.throws(() => new ReadBufferPool({ minClassBytes: 2 * MiB, maxClassBytes: 1 * MiB }), /powers of two/);
  });
});

describe('PartitionStore.read with a pool', () => {
  function fill(log: PartitionLog | MemoryPartitionLog, batches: number): Buffer[] {
    const written: Buffer[] = [];
    for (let i = 0; i < batches; i++) {
      const b = makeBatch({ timestamps: [1000 + i, 1000 + i], valueBytes: 8 * KiB });
      appendCommitted(log, b, { leaderEpoch: 0, assignOffsets: true });
      written.push(b);
    }
    return written;
  }

  test('PartitionLog: records come from the pool and release() gives the buffer back once', () => {
    const dir = tmpLogDir();
    const log = PartitionLog.open(dir, 't', 0, defaultLogConfig(), new ManualClock(0));
    try {
      const written = fill(log, 20);
      const pool = new ReadBufferPool();
      const first = log.read(0, 100 * KiB, log.highWatermark, true, pool);
      assert.ok(first.records.length > 16 * KiB);
      assert.deepEqual(first.records, Buffer.concat(written).subarray(0, first.records.length));
      assert.equal(pool.stats().outstandingBuffers, 1);
      // While the first is held, a second read gets its own buffer: the first's bytes stay intact.
      const copy = Buffer.from(first.records);
      const second = log.read(10, 100 * KiB, log.highWatermark, true, pool);
      assert.notEqual(second.records.buffer, first.records.buffer);
      assert.deepEqual(first.records, copy);
      assert.equal(pool.stats().outstandingBuffers, 2);
      first.release();
      first.release(); // one-shot: a second call must not put the buffer back twice
      assert.equal(pool.stats().outstandingBuffers, 1);
      assert.equal(pool.stats().idleBuffers, 1);
      second.release();
      assert.equal(pool.stats().outstandingBuffers, 0);
      // A read after the releases reuses a buffer and still returns the right bytes.
      const third = log.read(4, 100 * KiB, log.highWatermark, true, pool);
      assert.equal(pool.stats().reused, 1);
      assert.equal(batchBaseOffsets(third.records)[0], 4);
      third.release();
      // Without a pool nothing is pooled and release() is a no-op.
      const plain = log.read(0, 100 * KiB, log.highWatermark, true);
      plain.release();
      assert.equal(pool.stats().outstandingBuffers, 0);
      assert.deepEqual(plain.records, copy);
    } finally {
      log.close();
      cleanup(dir);
    }
  });

  test('PartitionLog: a read that returns nothing keeps no pool buffer', () => {
    const dir = tmpLogDir();
    const log = PartitionLog.open(dir, 't', 0, defaultLogConfig(), new ManualClock(0));
    try {
      fill(log, 20);
      const pool = new ReadBufferPool();
      // maxBytes below the first batch without minOneMessage: nothing to return.
      const r = log.read(0, 100, log.highWatermark, false, pool);
      assert.equal(r.records.length, 0);
      // maxOffset cuts before the second batch: only the first is returned, from a pooled read.
      const cut = log.read(0, 1 * MiB, 2, true, pool);
      assert.deepEqual(batchBaseOffsets(cut.records), [0]);
      cut.release();
      assert.equal(pool.stats().outstandingBuffers, 0);
    } finally {
      log.close();
      cleanup(dir);
    }
  });

  test('MemoryPartitionLog ignores the pool; release() is a no-op', () => {
    const log = new MemoryPartitionLog('t', 0, defaultLogConfig(), new ManualClock(0));
    fill(log, 5);
    const pool = new ReadBufferPool();
    const r = log.read(0, 1 * MiB, log.highWatermark, true, pool);
    assert.deepEqual(batchBaseOffsets(r.records), [0, 2, 4, 6, 8]);
    r.release();
    assert.equal(pool.stats().allocated, 0);
  });
});
