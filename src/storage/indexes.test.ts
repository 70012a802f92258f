import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OffsetIndex } from './offset-index.js';
import { TimeIndex } from './time-index.js';
import { cleanup, tmpLogDir } from './test-helpers.js';
import { readOffsetCheckpoint, writeOffsetCheckpoint, partitionKey } from './checkpoint.js';
import { parsePartitionDirName } from './files.js';

describe('OffsetIndex', () => {
  test('lookup returns the largest entry at or below the target, or the base', () => {
    const dir = tmpLogDir();
    try {
      const index = new OffsetIndex(path.join(dir, 'x.index'), 100, 1024);
      index.openForAppend();
      index.append(110, 4096);
      index.append(125, 8200);
      index.append(140, 12000);
      assert.deepEqual(index.lookup(99), { offset: 100, position: 0 });
      assert.deepEqual(index.lookup(109), { offset: 100, position: 0 });
      assert.deepEqual(index.lookup(110), { offset: 110, position: 4096 });
      assert.deepEqual(index.lookup(139), { offset: 125, position: 8200 });
      assert.deepEqual(index.lookup(1000), { offset: 140, position: 12000 });
      assert.throws(() => index.append(140, 13000), /not after/);
      index.truncateTo(125);
      assert.equal(index.entries, 1);
      assert.deepEqual(index.lookup(1000), { offset: 110, position: 4096 });
      index.closeForAppend();
      assert.equal(fs.statSync(path.join(dir, 'x.index')).size, 8);
    } finally {
      cleanup(dir);
    }
  });

  test('a preallocated file left by a crash loads only its valid entries', () => {
    const dir = tmpLogDir();
    try {
      const file = path.join(dir, 'y.index');
      const index = new OffsetIndex(file, 0, 800);
      index.openForAppend();
      index.append(5, 100);
      index.append(9, 300);
      assert.equal(fs.statSync(file).size, 800, 'preallocated');
      // no closeForAppend: the zero tail stays on disk
      const loaded = new OffsetIndex(file, 0, 800);
      assert.equal(loaded.entries, 2);
      assert.deepEqual(loaded.lastEntry(), { offset: 9, position: 300 });
    } finally {
      cleanup(dir);
    }
  });

  test('isFull keeps one slot in reserve', () => {
    const dir = tmpLogDir();
    try {
      const index = new OffsetIndex(path.join(dir, 'z.index'), 0, 24);
      index.openForAppend();
      index.append(1, 10);
      assert.equal(index.isFull(), false);
      index.append(2, 20);
      assert.equal(index.isFull(), true);
      index.closeForAppend();
    } finally {
      cleanup(dir);
    }
  });
});

describe('TimeIndex', () => {
  test('keeps strictly increasing timestamps and finds the entry below a target', () => {
    const dir = tmpLogDir();
    try {
      const index = new TimeIndex(path.join(dir, 'x.timeindex'), 50, 1200);
      index.openForAppend();
      index.maybeAppend(1000, 55);
      index.maybeAppend(1000, 60); // not larger: skipped
      index.maybeAppend(2000, 70);
      index.maybeAppend(3000, 90);
      assert.equal(index.entries, 3);
      assert.equal(index.lookupBelow(1000), null);
      assert.deepEqual(index.lookupBelow(1001), { timestamp: 1000, offset: 55 });
      assert.deepEqual(index.lookupBelow(2500), { timestamp: 2000, offset: 70 });
      index.truncateTo(70);
      assert.deepEqual(index.lastEntry(), { timestamp: 1000, offset: 55 });
      index.closeForAppend();
      assert.equal(new TimeIndex(path.join(dir, 'x.timeindex'), 50, 1200).entries, 1);
    } finally {
      cleanup(dir);
    }
  });
});

describe('checkpoint files', () => {
  test('round-trip in Kafka text format and refuse malformed files', () => {
    const dir = tmpLogDir();
    try {
      const file = path.join(dir, 'cp');
      writeOffsetCheckpoint(file, new Map([[partitionKey('a-b', 0), 5], [partitionKey('c', 12), 0]]));
      assert.equal(fs.readFileSync(file, 'utf8'), '0\n2\na-b 0 5\nc 12 0\n');
      assert.deepEqual([...readOffsetCheckpoint(file)], [[partitionKey('a-b', 0), 5], [partitionKey('c', 12), 0]]);
      fs.writeFileSync(file, '0\n3\na 0 1\n');
      assert.throws(() => readOffsetCheckpoint(file), /expected 3 entries/);
      assert.equal(readOffsetCheckpoint(path.join(dir, 'missing')).size, 0);
    } finally {
      cleanup(dir);
    }
  });

  test('partition directory names split at the last dash', () => {
    assert.deepEqual(parsePartitionDirName('my-topic-12'), { topic: 'my-topic', partition: 12 });
    assert.equal(parsePartitionDirName('noise'), null);
    assert.equal(parsePartitionDirName('t-x'), null);
  });
});
