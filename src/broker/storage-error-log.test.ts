import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Logger } from '../logger.js';
import { KafkaStorageError, OffsetOutOfRangeError } from '../storage/errors.js';
import { StorageErrorLog } from './storage-error-log.js';

function recorder(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = { error: (fields: Record<string, unknown>, msg: string) => lines.push({ ...fields, msg }) } as unknown as Logger;
  return { log, lines };
}

test('the first storage error of each kind on each partition is logged; repeats only after the interval, with a count', () => {
  let now = 1_000;
  const { log, lines } = recorder();
  const errors = new StorageErrorLog(log, () => now, 60_000);
  const full = new KafkaStorageError('write to /d/t-0/0.log at 0 failed: ENOSPC: no space left on device, write', 'ENOSPC');
  for (let i = 0; i < 50; i++) errors.report('append', 't', 0, full);
  assert.equal(lines.length, 1);
  assert.deepEqual(
    { topic: lines[0]!['topic'], partition: lines[0]!['partition'], errorKind: lines[0]!['errorKind'], error: lines[0]!['error'] },
    { topic: 't', partition: 0, errorKind: 'ENOSPC', error: full.message },
  );
  errors.report('append', 't', 1, full); // another partition
  errors.report('append', 't', 0, new KafkaStorageError('read-only', 'EROFS')); // another kind
  assert.equal(lines.length, 3);
  now += 59_999;
  errors.report('append', 't', 0, full);
  assert.equal(lines.length, 3);
  now += 1;
  errors.report('append', 't', 0, full);
  assert.equal(lines.length, 4);
  assert.equal(lines[3]!['notLoggedSinceLast'], 50);
  errors.report('read', 't', 0, new OffsetOutOfRangeError('x'));
  assert.equal(lines[4]!['errorKind'], 'OffsetOutOfRangeError');
});

test('remembers a bounded number of partitions and kinds, forgetting the oldest first', () => {
  const { log, lines } = recorder();
  const errors = new StorageErrorLog(log, () => 0, 60_000, 3);
  const e = new KafkaStorageError('EIO', 'EIO');
  for (const p of [0, 1, 2, 3]) errors.report('append', 't', p, e); // 0 is forgotten
  errors.report('append', 't', 3, e);
  assert.equal(lines.length, 4);
  errors.report('append', 't', 0, e);
  assert.equal(lines.length, 5);
});
