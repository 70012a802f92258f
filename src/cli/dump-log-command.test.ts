import assert from 'node:assert/strict';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { forEachBatch } from '../protocol/records/record-batch.js';
import { makeBatch } from '../storage/test-helpers.js';
import { forEachBatchInFile } from './dump-log-command.js';

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
