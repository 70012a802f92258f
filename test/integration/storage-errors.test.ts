// A storage error on append (here: the active segment is /dev/full, so every write fails with
// ENOSPC, as on a full disk) is answered KAFKA_STORAGE_ERROR and logged at ERROR with the
// topic-partition and the OS error: once, however often the producer retries; other partitions
// keep working.
import assert from 'node:assert/strict';
import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BrokerProcess } from '../helpers/broker-process.js';
import { kcat } from '../helpers/clients.js';
import { eventually, kcatConsume, kcatProduce } from './support.js';

describe('storage errors on append', () => {
  let broker: BrokerProcess | null = null;
  after(async () => {
    await broker?.destroy();
  });

  it('answers KAFKA_STORAGE_ERROR and logs it once per partition and error kind, with the OS error', async () => {
    broker = new BrokerProcess({ overrides: { 'num.partitions': '2' } });
    await broker.start();
    await kcatProduce(broker.bootstrap, 'disk', ['k:warm-up'], ['-p', '1']); // creates the topic; partition 0 stays empty
    assert.equal(await broker.stop(), 0);
    const segment = join(broker.dataDir, 'disk-0', '00000000000000000000.log');
    rmSync(segment);
    symlinkSync('/dev/full', segment);
    const logsBefore = broker.logs.length;
    await broker.start();

    // librdkafka retries a retriable error until message.timeout.ms: many failed appends.
    const r = await kcat(['-P', '-b', broker.bootstrap, '-t', 'disk', '-p', '0', '-X', 'message.timeout.ms=3000', '-X', 'retry.backoff.ms=50'], {
      input: 'lost-1\nlost-2\n',
      timeoutMs: 30_000,
    });
    assert.match(r.stderr, /Disk error when trying to access log file on the disk|KAFKA_STORAGE_ERROR|Message timed out/, r.stderr);
    await kcatProduce(broker.bootstrap, 'disk', ['k:fine'], ['-p', '1']);
    assert.deepEqual((await kcatConsume(broker.bootstrap, 'disk', 'beginning', ['-p', '1'])).map((x) => x.value), ['warm-up', 'fine']);

    const errorLines = () =>
      broker!.logs
        .slice(logsBefore)
        .split('\n')
        .filter((l) => l.includes('"level":50') && l.includes('storage error'));
    await eventually('the storage error in the log', () => (errorLines().length > 0 ? true : undefined), 5000);
    const lines = errorLines();
    assert.equal(lines.length, 1, lines.join('\n'));
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(line['topic'], 'disk');
    assert.equal(line['partition'], 0);
    assert.equal(line['operation'], 'append');
    assert.equal(line['errorKind'], 'ENOSPC');
    assert.match(String(line['error']), /ENOSPC: no space left on device/);
    assert.ok(String(line['error']).includes(segment), String(line['error']));
  });
});
