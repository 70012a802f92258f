import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { forEachBatch } from '../protocol/records/record-batch.js';
import { makeBatch } from '../storage/test-helpers.js';
import { TXN_INDEX_ENTRY_BYTES, TransactionIndex } from '../storage/txn-index.js';
import { dumpTxnIndex, forEachBatchInFile } from './dump-log-command.js';

async function walk(bytes: Buffer, chunkBytes: number): Promise<{ batches: Array<[number, number]>; trailing: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'dump-log-'));
  const file = join(dir, '00000000000000000000.log');
  writeFileSync(file, bytes);
  const fd = openSync(file, 'r');
  try {
    const batches: Array<[number, number]> = [];
    const trailing = await forEachBatchInFile(fd, chunkBytes, async (h, buf, pos, filePos) => {
      assert.equal(buf.readInt32BE(pos + 8) + 12, h.sizeInBytes, 'the batch is whole in the buffer it is given');
      assert.ok(pos + h.sizeInBytes <= buf.length);
      batches.push([filePos, h.sizeInBytes]);
    });
    return { batches, trailing };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('dump-log reads a segment in chunks', () => {
  const segment = Buffer.concat([makeBatch({ valueBytes: 10 }), makeBatch({ valueBytes: 5000, timestamps: [1, 2, 3] }), makeBatch({ valueBytes: 100 }), makeBatch({ valueBytes: 3 })]);
  const whole: Array<[number, number]> = [];
  forEachBatch(segment, (h, pos) => void whole.push([pos, h.sizeInBytes]));

  it('visits the same batches at the same file positions whatever the chunk size', async () => {
    assert.equal(whole.length, 4);
    for (const chunk of [16, 200, 3000, 1 << 20]) {
      const got = await walk(segment, chunk);
      assert.deepEqual(got.batches, whole, `chunk ${chunk}`);
      assert.equal(got.trailing, 0);
    }
  });

  it('reports a partial tail (a few bytes, or a batch cut short) as trailing bytes', async () => {
    const few = await walk(Buffer.concat([segment, Buffer.alloc(7)]), 200);
    assert.deepEqual(few.batches, whole);
    assert.equal(few.trailing, 7);
    const next = makeBatch({ valueBytes: 400 });
    const cut = await walk(Buffer.concat([segment, next.subarray(0, 100)]), 64);
    assert.deepEqual(cut.batches, whole);
    assert.equal(cut.trailing, 100);
  });

  it('names a damaged batch by its position in the file, not in the chunk', async () => {
    const bad = makeBatch({ valueBytes: 50 });
    bad.writeInt8(9, 16); // magic
    await assert.rejects(walk(Buffer.concat([segment, bad]), 64), new RegExp(`record batch at byte ${segment.length} has unknown magic 9`));
  });
});

describe('dump-log prints a transaction index as kafka-dump-log.sh does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dump-log-txn-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, '00000000000000000100.txnindex');
  // Written by the storage code, as a segment's aborted transactions are.
  const index = new TransactionIndex(file);
  index.startEmpty();
  index.append({ producerId: 7n, firstOffset: 90, lastOffset: 104, lastStableOffset: 90 });
  index.append({ producerId: 3000000000123n, firstOffset: 105, lastOffset: 130, lastStableOffset: 131 });
  index.flush();
  const expected = [
    `Dumping ${file}`,
    'version: 0 producerId: 7 firstOffset: 90 lastOffset: 104 lastStableOffset: 90',
    'version: 0 producerId: 3000000000123 firstOffset: 105 lastOffset: 130 lastStableOffset: 131',
  ];

  async function dump(path: string): Promise<string[]> {
    let text = '';
    await dumpTxnIndex(path, (t) => void (text += t));
    return text.split('\n').slice(0, -1);
  }

  it('prints one line per entry, in order, after the Dumping line', async () => {
    assert.equal(readFileSync(file).length, 2 * TXN_INDEX_ENTRY_BYTES);
    assert.deepEqual(await dump(file), expected);
  });

  it('leaves out a torn last entry, as Kafka does', async () => {
    const torn = join(dir, '00000000000000000200.txnindex');
    writeFileSync(torn, readFileSync(file));
    appendFileSync(torn, Buffer.alloc(TXN_INDEX_ENTRY_BYTES - 1));
    assert.deepEqual((await dump(torn)).slice(1), expected.slice(1));
  });

  it('stops at an entry of an unknown version with Kafka\'s error, after the entries before it', async () => {
    const bad = join(dir, '00000000000000000300.txnindex');
    const bytes = Buffer.concat([readFileSync(file), readFileSync(file)]);
    bytes.writeInt16BE(1, 2 * TXN_INDEX_ENTRY_BYTES);
    writeFileSync(bad, bytes);
    let text = '';
    await assert.rejects(
      dumpTxnIndex(bad, (t) => void (text += t)),
      new RegExp(`^Error: Unexpected aborted transaction version 1 in transaction index ${bad}, current version is 0$`),
    );
    assert.deepEqual(text.split('\n').slice(1, -1), expected.slice(1));
  });

  it('prints only the Dumping line for an empty index', async () => {
    const empty = join(dir, '00000000000000000400.txnindex');
    writeFileSync(empty, Buffer.alloc(0));
    assert.deepEqual(await dump(empty), [`Dumping ${empty}`]);
  });
});
