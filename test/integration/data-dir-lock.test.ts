// One broker per data directory: a second `tributary server` (or a second embedded Broker) on the
// same log.dirs refuses to start with a line naming the directory; the lock dies with its process
// (kill -9 then restart works at once); and a SIGTERM'd broker holds its port and its lock until
// its logs are closed, so a restart that waits for the port finds a cleanly shut down directory.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Broker } from '../../src/node/broker.js';
import { StorageStartupError } from '../../src/storage/errors.js';
import { BrokerProcess, tempDir } from '../helpers/broker-process.js';
import { kcatConsume, kcatProduce } from './support.js';

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('data directory lock', () => {
  const brokers: BrokerProcess[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const b of brokers) await b.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('refuses a second server on the same log.dirs with a line naming the directory; the first keeps every acknowledged record', async () => {
    const first = new BrokerProcess({ overrides: { 'num.partitions': '1' } });
    brokers.push(first);
    await first.start();
    await kcatProduce(first.bootstrap, 'locked', Array.from({ length: 10 }, (_, i) => `k:first-${i}`), ['-p', '0']);

    const second = new BrokerProcess({ dataDir: first.dataDir, overrides: { 'num.partitions': '1' } });
    brokers.push(second);
    const outcome = await second.startOrExit();
    assert.equal(outcome.started, false, 'a second broker started on a locked directory');
    if (outcome.started) return;
    assert.equal(outcome.code, 1, outcome.output);
    assert.match(outcome.output, new RegExp(`Log directory ${first.dataDir} is in use by another process \\(pid ${first.pid}\\)`), outcome.output);
    assert.ok(first.pid !== null && existsSync(`/proc/${first.pid}`), 'the first broker must still be running');

    await kcatProduce(first.bootstrap, 'locked', Array.from({ length: 10 }, (_, i) => `k:first-${10 + i}`), ['-p', '0']);
    assert.equal(await first.stop(), 0);
    await first.start();
    const got = await kcatConsume(first.bootstrap, 'locked', 'beginning', ['-p', '0']);
    assert.deepEqual(got.map((r) => `${r.offset}=${r.value}`), Array.from({ length: 20 }, (_, i) => `${i}=first-${i}`));
  });

  it('lets a new server use the directory at once after the holder was killed with SIGKILL', async () => {
    const broker = new BrokerProcess({ overrides: { 'num.partitions': '1' } });
    brokers.push(broker);
    await broker.start();
    await kcatProduce(broker.bootstrap, 'after-kill', ['k:a', 'k:b'], ['-p', '0']);
    await broker.kill();
    const restarted = new BrokerProcess({ dataDir: broker.dataDir, overrides: { 'num.partitions': '1' } });
    brokers.push(restarted);
    await restarted.start(); // no wait: the kernel dropped the lock with the process
    const got = await kcatConsume(restarted.bootstrap, 'after-kill', 'beginning', ['-p', '0']);
    assert.deepEqual(got.map((r) => r.value), ['a', 'b']);
  });

  it('holds its port until the logs are closed and the clean-shutdown marker is written, so a restart that waits for the port starts cleanly', async () => {
    // Enough partitions that closing the logs takes a while after SIGTERM.
    const broker = new BrokerProcess({ overrides: { 'num.partitions': '400' } });
    brokers.push(broker);
    await broker.start();
    await kcatProduce(broker.bootstrap, 'wide', Array.from({ length: 400 }, (_, i) => `k${i}:v${i}`));
    const marker = join(broker.dataDir, '.kafka_cleanshutdown');
    const port = broker.port;
    const stopped = broker.stop();
    let markerWhenPortFreed: boolean | null = null;
    for (let i = 0; i < 10_000 && markerWhenPortFreed === null; i++) {
      if (!(await canConnect(port))) markerWhenPortFreed = existsSync(marker);
    }
    assert.equal(markerWhenPortFreed, true, 'the port was released before the logs were closed');
    // What a restart script does: the port is free, so start the same broker again.
    const restarted = new BrokerProcess({ dataDir: broker.dataDir, port, overrides: { 'num.partitions': '400' } });
    brokers.push(restarted);
    const logsBefore = restarted.logs.length;
    await restarted.start();
    assert.equal(await stopped, 0);
    assert.match(restarted.logs.slice(logsBefore), /"hadCleanShutdown":true/);
    const got = await kcatConsume(restarted.bootstrap, 'wide');
    assert.equal(got.length, 400);
  });

  it('refuses a second embedded Broker on the same dataDir in the same process, and allows it after stop()', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first = await Broker.start({ dataDir });
    try {
      await assert.rejects(Broker.start({ dataDir }), (err: unknown) => {
        assert.ok(err instanceof StorageStartupError, String(err));
        assert.match(err.message, new RegExp(`Log directory ${dataDir} is in use`));
        return true;
      });
      // The metadata log directory is locked too when it is set apart from log.dirs.
      const metadataDir = tempDir();
      dirs.push(metadataDir);
      const other = tempDir();
      dirs.push(other);
      const withMetadataDir = await Broker.start({ dataDir: other, overrides: { 'metadata.log.dir': metadataDir } });
      try {
        await assert.rejects(Broker.start({ dataDir: metadataDir }), new RegExp(`Log directory ${metadataDir} is in use`));
      } finally {
        await withMetadataDir.stop();
      }
    } finally {
      await first.stop();
    }
    const again = await Broker.start({ dataDir });
    await again.stop();
  });
});
