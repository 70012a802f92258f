// Partition directories at start-up: only a committed RemoveTopicRecord deletes one (matched by
// the topic id in its partition.metadata, Kafka's format); a directory the metadata log does not
// account for is kept, not served, with a WARN naming it; and a new topic of the same name moves
// such a directory aside instead of taking its data.
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BrokerProcess, tributaryBin } from '../helpers/broker-process.js';
import { run } from '../helpers/clients.js';
import { assertOk, kcatConsume, kcatProduce } from './support.js';

function warnsAbout(logs: string, dir: string): boolean {
  return logs.split('\n').some((l) => l.includes('"level":40') && l.includes(`"dir":"${dir}"`) && l.includes('keeping a partition directory'));
}

describe('partition directories at start-up', () => {
  const brokers: BrokerProcess[] = [];
  after(async () => {
    for (const b of brokers) await b.destroy();
  });

  it('deletes a leftover directory only when a committed record removed its topic id; keeps the others with a WARN', async () => {
    const broker = new BrokerProcess({ overrides: { 'num.partitions': '1' } });
    brokers.push(broker);
    await broker.start();
    await kcatProduce(broker.bootstrap, 'gone', ['k:g1'], ['-p', '0']);
    await kcatProduce(broker.bootstrap, 'kept', ['k:k1', 'k:k2'], ['-p', '0']);
    const data = broker.dataDir;
    assert.match(readFileSync(join(data, 'kept-0', 'partition.metadata'), 'utf8'), /^version: 0\ntopic_id: [A-Za-z0-9_-]{22}$/);
    const goneCopy = `${data}-gone-0`;
    cpSync(join(data, 'gone-0'), goneCopy, { recursive: true });
    const del = await run(process.execPath, [tributaryBin, 'topics', '--bootstrap-server', broker.bootstrap, '--delete', '--topic', 'gone']);
    assertOk(del, 'topics --delete');
    assert.equal(await broker.stop(), 0);

    // As a crash between the commit of the RemoveTopicRecord and the removal of the directory leaves it.
    cpSync(goneCopy, join(data, 'gone-0'), { recursive: true });
    rmSync(goneCopy, { recursive: true, force: true });
    // A directory with some other (live) topic's id under a name the metadata log does not know,
    // and one without partition.metadata (as an older version left them).
    cpSync(join(data, 'kept-0'), join(data, 'stranger-0'), { recursive: true });
    cpSync(join(data, 'kept-0'), join(data, 'nometa-0'), { recursive: true });
    rmSync(join(data, 'nometa-0', 'partition.metadata'));

    const logsBefore = broker.logs.length;
    await broker.start();
    const logs = broker.logs.slice(logsBefore);
    assert.equal(existsSync(join(data, 'gone-0')), false, 'the removed topic id was not deleted');
    assert.match(logs, /"topic":"gone".*"msg":"deleting partition of a deleted topic"/);
    for (const name of ['stranger-0', 'nometa-0']) {
      assert.ok(existsSync(join(data, name, '00000000000000000000.log')), `${name} was deleted`);
      assert.ok(warnsAbout(logs, join(data, name)), `no WARN names ${name}:\n${logs}`);
    }
    assert.deepEqual((await kcatConsume(broker.bootstrap, 'kept', 'beginning', ['-p', '0'])).map((r) => r.value), ['k1', 'k2']);

    // A new topic of a kept directory's name starts empty; the old directory is moved aside, whole.
    await kcatProduce(broker.bootstrap, 'nometa', ['k:new'], ['-p', '0']);
    assert.deepEqual((await kcatConsume(broker.bootstrap, 'nometa', 'beginning', ['-p', '0'])).map((r) => r.value), ['new']);
    const aside = readdirSync(data).filter((n) => /^nometa-0\.\d+-stray$/.test(n));
    assert.equal(aside.length, 1, readdirSync(data).join(' '));
    assert.ok(existsSync(join(data, aside[0]!, '00000000000000000000.log')));

    // Kept directories are kept at every start, and the stray one is not opened again.
    const logsBeforeRestart = broker.logs.length;
    assert.equal(await broker.stop(), 0);
    await broker.start();
    const restart = broker.logs.slice(logsBeforeRestart);
    assert.ok(warnsAbout(restart, join(data, 'stranger-0')));
    assert.doesNotMatch(restart, /stray/);
  });

  it('deletes nothing when the metadata log is missing', async () => {
    const broker = new BrokerProcess({ overrides: { 'num.partitions': '2' } });
    brokers.push(broker);
    await broker.start();
    await kcatProduce(broker.bootstrap, 'orphaned', ['a:1', 'b:2', 'c:3']);
    assert.equal(await broker.stop(), 0);
    rmSync(join(broker.dataDir, '__cluster_metadata-0'), { recursive: true });
    const logsBefore = broker.logs.length;
    await broker.start();
    const logs = broker.logs.slice(logsBefore);
    for (const p of [0, 1]) {
      const dir = join(broker.dataDir, `orphaned-${p}`);
      assert.ok(existsSync(join(dir, '00000000000000000000.log')), `${dir} was deleted`);
      assert.ok(warnsAbout(logs, dir), `no WARN names ${dir}:\n${logs}`);
    }
  });
});
