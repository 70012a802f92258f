// `tributary storage` (kafka-storage.sh): random-uuid, format and info in Kafka's words, and the
// start-up rules that go with them: a formatted directory starts with its cluster id, a
// directory of another cluster refuses to start naming both ids, and a voter of a multi-voter
// quorum does not make up a cluster id of its own.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BrokerProcess, freePort, tempDir, tributaryBin } from '../helpers/broker-process.js';
import kafkajs from 'kafkajs';
import { kcat, run, type RunResult } from '../helpers/clients.js';

/** The cluster id kafkajs's admin client sees (DescribeCluster). */
async function clusterIdSeenBy(bootstrap: string): Promise<string> {
  const admin = new kafkajs.Kafka({ clientId: 'storage-it', brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.describeCluster()).clusterId;
  } finally {
    await admin.disconnect();
  }
}

const tool = (args: string[]): Promise<RunResult> => run(process.execPath, [tributaryBin, 'storage', ...args], { timeoutMs: 30_000 });

describe('tributary storage', () => {
  const dirs: string[] = [];
  const brokers: BrokerProcess[] = [];
  after(async () => {
    for (const b of brokers) await b.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const workDir = (): string => {
    const d = tempDir('tributary-storage-');
    dirs.push(d);
    return d;
  };
  const config = (dir: string, lines: string[]): string => {
    const file = join(dir, 'server.properties');
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };

  it('random-uuid prints a new 16-byte id each time', async () => {
    const [a, b] = await Promise.all([tool(['random-uuid']), tool(['random-uuid'])]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^[A-Za-z0-9_][A-Za-z0-9_-]{20}[AQgw]\n$/);
    assert.notEqual(a.stdout, b.stdout);
  });

  it('format writes meta.properties into every directory, refuses formatted ones unless --ignore-formatted; info reports them', async () => {
    const root = workDir();
    const d1 = join(root, 'a');
    const d2 = join(root, 'b');
    const file = config(root, ['node.id=3', `log.dirs=${d2},${d1}`, 'process.roles=broker,controller', 'controller.quorum.voters=3@127.0.0.1:19093']);
    const id = (await tool(['random-uuid'])).stdout.trim();

    const before = await tool(['info', '-c', file]);
    assert.equal(before.code, 1);
    assert.equal(before.stdout, `Found problems:\n  ${d1} does not exist\n  ${d2} does not exist\n\n`);

    const formatted = await tool(['format', '--config', file, '--cluster-id', id]);
    assert.equal(formatted.code, 0, formatted.stderr);
    // Sorted, the metadata directory (the first of log.dirs) named as such.
    assert.equal(formatted.stdout, `Formatting data directory ${d1} with metadata.version 4.2-IV1.\nFormatting metadata directory ${d2} with metadata.version 4.2-IV1.\n`);
    for (const d of [d1, d2]) {
      const meta = readFileSync(join(d, 'meta.properties'), 'utf8');
      assert.match(meta, new RegExp(`^cluster.id=${id}$`, 'm'));
      assert.match(meta, /^node.id=3$/m);
      assert.match(meta, /^version=1$/m);
      assert.match(meta, /^directory.id=[A-Za-z0-9_-]{22}$/m);
    }

    const again = await tool(['format', '-c', file, '-t', id]);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `Error: Log directory ${d1} is already formatted. Use --ignore-formatted to ignore this directory and format the others.\n`);
    const ignored = await tool(['format', '-c', file, '-t', id, '--ignore-formatted']);
    assert.equal(ignored.code, 0, ignored.stderr);
    assert.equal(ignored.stdout, 'All of the log directories are already formatted.\n');
    const other = await tool(['format', '-c', file, '-t', 'AAAAAAAAAAAAAAAAAAAAAA', '--ignore-formatted']);
    assert.equal(other.code, 1);
    assert.match(other.stderr, new RegExp(`^Error: Invalid cluster.id in: ${d1}/meta.properties. Expected AAAAAAAAAAAAAAAAAAAAAA, but read ${id}\n$`));

    const info = await tool(['info', '-c', file]);
    assert.equal(info.code, 0, info.stderr);
    const dirId = /^directory.id=(.*)$/m.exec(readFileSync(join(d1, 'meta.properties'), 'utf8'))![1];
    assert.equal(info.stdout, `Found log directories:\n  ${d1}\n  ${d2}\n\nFound metadata: {cluster.id=${id}, directory.id=${dirId}, node.id=3, version=1}\n\n`);

    // A directory of another cluster: info finds the mismatch.
    writeFileSync(join(d2, 'meta.properties'), `node.id=3\nversion=1\ncluster.id=BBBBBBBBBBBBBBBBBBBBBA\n`);
    const mismatch = await tool(['info', '-c', file]);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stdout, /Found problem:\n {2}Mismatched cluster IDs between storage directories.\n\n$/);
  });

  it('format of a controller without voters asks for --standalone; bad arguments are one line', async () => {
    const root = workDir();
    const file = config(root, ['node.id=1', `log.dirs=${join(root, 'data')}`, 'process.roles=broker,controller']);
    const refused = await tool(['format', '-c', file, '-t', 'AAAAAAAAAAAAAAAAAAAAAA']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^Error: Because controller.quorum.voters is not set on this controller, you must specify one of the following: --standalone, --initial-controllers, or --no-initial-controllers.\n$/);
    const standalone = await tool(['format', '-c', file, '-t', 'AAAAAAAAAAAAAAAAAAAAAA', '--standalone']);
    assert.equal(standalone.code, 0, standalone.stderr);
    const noId = await tool(['format', '-c', file, '--standalone']);
    assert.equal(noId.code, 1);
    assert.equal(noId.stderr, 'Error: You must specify the cluster id.\n');
    const badId = await tool(['format', '-c', file, '-t', 'not a uuid!', '-g', '-s']);
    assert.equal(badId.code, 1);
    assert.match(badId.stderr, /does not appear to be a valid UUID/);
    const missing = await tool(['info', '-c', join(root, 'nope.properties')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
    const usage = await tool(['reformat']);
    assert.equal(usage.code, 2);
  });

  it('format --add-scram: the new cluster starts with the users, and kcat authenticates as them over SCRAM', async () => {
    const root = workDir();
    const data = join(root, 'data');
    const [plainPort, scramPort] = [await freePort(), await freePort()];
    const listeners = `PLAINTEXT://127.0.0.1:${plainPort},SASL_PLAINTEXT://127.0.0.1:${scramPort}`;
    const file = config(root, ['node.id=1', `log.dirs=${data}`, 'process.roles=broker,controller', `listeners=${listeners}`, 'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512']);
    const id = (await tool(['random-uuid'])).stdout.trim();
    const bad = await tool(['format', '-c', file, '-t', id, '-s', '--add-scram', 'SCRAM-SHA-1=[name=alice,password=x]']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'Error: Invalid SCRAM mechanism SCRAM-SHA-1. Valid mechanisms are: SCRAM-SHA-256, SCRAM-SHA-512\n');
    const noName = await tool(['format', '-c', file, '-t', id, '-s', '--add-scram', 'SCRAM-SHA-256=[password=x]']);
    assert.equal(noName.stderr, "Error: You must supply 'name' to add-scram\n");
    const few = await tool(['format', '-c', file, '-t', id, '-s', '--add-scram', 'SCRAM-SHA-256=[name=alice,iterations=100,password=x]']);
    assert.equal(few.stderr, 'Error: The number of iterations must be at least 4096\n');
    const formatted = await tool(['format', '-c', file, '-t', id, '-s', '--add-scram', 'SCRAM-SHA-256=[name=alice,password="alice-secret"]', '-S', 'SCRAM-SHA-512=[name=bob,iterations=8192,password=bob-secret]']);
    assert.equal(formatted.code, 0, formatted.stderr);

    const broker = new BrokerProcess({ dataDir: data, port: plainPort, overrides: { 'node.id': '1', listeners, 'advertised.listeners': listeners, 'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512', 'num.partitions': '1' } });
    brokers.push(broker);
    await broker.start();
    const described = await run(process.execPath, [tributaryBin, 'configs', '--bootstrap-server', broker.bootstrap, '--describe', '--entity-type', 'users'], { timeoutMs: 30_000 });
    assert.equal(described.stdout, "SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=4096\nSCRAM credential configs for user-principal 'bob' are SCRAM-SHA-512=iterations=8192\n", described.stderr);
    const scram = (mechanism: string, user: string, password: string) => ['-b', `127.0.0.1:${scramPort}`, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', `sasl.mechanisms=${mechanism}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`];
    const produced = await kcat([...scram('SCRAM-SHA-256', 'alice', 'alice-secret'), '-P', '-t', 'boot'], { input: 'from-alice\n' });
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await kcat([...scram('SCRAM-SHA-512', 'bob', 'bob-secret'), '-C', '-t', 'boot', '-o', 'beginning', '-e', '-q']);
    assert.equal(consumed.stdout, 'from-alice\n', consumed.stderr);
    const wrong = await kcat([...scram('SCRAM-SHA-256', 'alice', 'wrong'), '-L', '-m', '5']);
    assert.notEqual(wrong.code, 0, 'a wrong password is refused');
    // A restart does not add them again (they are in the metadata log now).
    await broker.stop();
    await broker.start();
    const again = await run(process.execPath, [tributaryBin, 'configs', '--bootstrap-server', broker.bootstrap, '--describe', '--entity-type', 'users'], { timeoutMs: 30_000 });
    assert.equal(again.stdout, described.stdout);
    await broker.stop();
  });

  it('a broker starts with the formatted cluster id; another cluster id refuses to start naming both; a multi-voter node needs formatting', async () => {
    const root = workDir();
    const data = join(root, 'data');
    const file = config(root, ['node.id=1', `log.dirs=${data}`, 'process.roles=broker,controller']);
    const id = (await tool(['random-uuid'])).stdout.trim();
    assert.equal((await tool(['format', '-c', file, '-t', id, '--standalone'])).code, 0);
    const broker = new BrokerProcess({ dataDir: data, overrides: { 'node.id': '1' } });
    brokers.push(broker);
    await broker.start();
    assert.equal(await clusterIdSeenBy(broker.bootstrap), id);
    const printed = await run(process.execPath, [tributaryBin, 'cluster', 'cluster-id', '--bootstrap-server', broker.bootstrap], { timeoutMs: 30_000 });
    assert.equal(printed.stdout, `Cluster ID: ${id}\n`, printed.stderr);
    const alias = await run(process.execPath, [tributaryBin, 'cluster-id', '--bootstrap-controller', broker.bootstrap], { timeoutMs: 30_000 });
    assert.equal(alias.stdout, `Cluster ID: ${id}\n`, alias.stderr);
    await broker.stop();

    const other = new BrokerProcess({ dataDir: data, overrides: { 'node.id': '1', 'cluster.id': 'BBBBBBBBBBBBBBBBBBBBBA' } });
    brokers.push(other);
    const refused = await other.startOrExit();
    assert.equal(refused.started, false);
    if (!refused.started) {
      assert.equal(refused.code, 1);
      assert.match(refused.output, new RegExp(`Configuration 'cluster.id' \\(BBBBBBBBBBBBBBBBBBBBBA\\) does not match cluster.id=${id} in ${data}/meta.properties`));
    }

    const voterData = join(root, 'voter');
    mkdirSync(voterData);
    const [port, controllerPort] = [await freePort(), await freePort()];
    const voter = new BrokerProcess({
      dataDir: voterData,
      port,
      overrides: { listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`, 'controller.quorum.voters': `1@127.0.0.1:${controllerPort},2@127.0.0.1:19094,3@127.0.0.1:19095` },
    });
    brokers.push(voter);
    const unformatted = await voter.startOrExit();
    assert.equal(unformatted.started, false);
    if (!unformatted.started) {
      assert.equal(unformatted.code, 1);
      assert.match(unformatted.output, /No meta.properties in .*: a node of a 3-voter quorum \(controller.quorum.voters\) is formatted first/);
    }
  });
});
