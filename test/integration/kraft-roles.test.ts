// Dedicated roles on a KRaft quorum: three `process.roles=controller` voters and two
// `process.roles=broker` nodes, which follow the metadata log as observers. Clients see only the
// brokers; topics are placed on them alone; `metadata-quorum` lists the brokers as observers; the
// brokers ride through kill -9 of the active controller. Bad role and listener combinations stop
// start-up with a message naming the key.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Broker } from '../../src/node/broker.js';
import kafkajs from 'kafkajs';
import { kcat, python } from '../helpers/clients.js';
import { formatKraftNodes, kcatMetadata, ok, quorumStatus, type KraftNode } from '../helpers/kraft-cluster.js';
import { eventually } from './support.js';

describe('dedicated controllers and brokers', () => {
  const nodes: KraftNode[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.broker.destroy()));
  });

  it('three controllers and two brokers form one cluster; clients see the brokers; a controller failover goes unnoticed', async () => {
    const formatted = await formatKraftNodes([
      { id: 1, roles: 'controller' },
      { id: 2, roles: 'controller' },
      { id: 3, roles: 'controller' },
      { id: 4, roles: 'broker' },
      { id: 5, roles: 'broker' },
    ]);
    nodes.push(...formatted.nodes);
    await Promise.all(nodes.map((n) => n.broker.start()));
    const controllers = nodes.filter((n) => n.id <= 3);
    const brokers = nodes.filter((n) => n.id >= 4);
    for (const b of brokers) {
      await eventually(`broker ${b.id} lists brokers 4 and 5 only`, async () => ((await kcatMetadata(b)).brokers.join() === '4,5' ? true : undefined));
    }
    // A dedicated controller serves no broker APIs: its one listener is the controller's.
    assert.match(controllers[0]!.broker.logs, /"msg":"started"/);
    assert.match(controllers[0]!.broker.logs, new RegExp(`"listeners":\\["CONTROLLER://127\\.0\\.0\\.1:${controllers[0]!.controllerPort}"\\]`));
    assert.match(brokers[0]!.broker.logs, /"msg":"following the metadata quorum as an observer"/);

    const status = await quorumStatus(`127.0.0.1:${brokers[0]!.port}`);
    assert.equal(status.get('ClusterId'), formatted.clusterId);
    const leaderId = Number(status.get('LeaderId'));
    assert.ok([1, 2, 3].includes(leaderId), `the leader is a controller: ${[...status].join('; ')}`);
    for (const c of controllers) assert.match(status.get('CurrentVoters')!, new RegExp(`"id": ${c.id},`));
    for (const b of brokers) assert.match(status.get('CurrentObservers')!, new RegExp(`"id": ${b.id},`), `observers: ${status.get('CurrentObservers')}`);
    assert.doesNotMatch(status.get('CurrentVoters')!, /"id": [45],/);

    // Topics go to the brokers only, created through either.
    assert.equal(await ok(['topics', '--bootstrap-server', `127.0.0.1:${brokers[1]!.port}`, '--create', '--topic', 'orders', '--partitions', '4']), 'Created topic orders.\n');
    const described = await ok(['topics', '--bootstrap-server', `127.0.0.1:${brokers[0]!.port}`, '--describe', '--topic', 'orders']);
    const leaders = [...described.matchAll(/\tLeader: (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(leaders.length, 4, described);
    assert.deepEqual([...new Set(leaders)].sort(), [4, 5], `partitions led by the two brokers:\n${described}`);
    const bs = brokers.map((b) => `127.0.0.1:${b.port}`).join(',');
    for (const p of [0, 1, 2, 3]) {
      const produced = await kcat(['-b', bs, '-P', '-t', 'orders', '-p', String(p)], { input: `record-${p}\n` });
      assert.equal(produced.code, 0, produced.stderr);
    }
    const consumed = await kcat(['-b', bs, '-G', 'roles-group', '-X', 'auto.offset.reset=earliest', '-q', '-e', '-f', '%p:%s\n', 'orders'], { timeoutMs: 60_000 });
    assert.deepEqual(consumed.stdout.trim().split('\n').sort(), ['0:record-0', '1:record-1', '2:record-2', '3:record-3'], consumed.stderr);

    // confluent-kafka's and kafkajs's admin clients, each through one broker: both brokers, and
    // topics they create are seen through the other.
    const confluent = await python<{ brokers: number[]; created: string | null }>(
      [
        'import json, sys',
        'from confluent_kafka.admin import AdminClient, NewTopic',
        "a = AdminClient({'bootstrap.servers': sys.argv[1]})",
        "f = a.create_topics([NewTopic('from-confluent', 2, 1)])['from-confluent']",
        'err = None',
        'try:',
        '    f.result(30)',
        'except Exception as e:',
        '    err = str(e)',
        'md = a.list_topics(timeout=30)',
        "print(json.dumps({'brokers': sorted(md.brokers.keys()), 'created': err}))",
      ].join('\n'),
      [`127.0.0.1:${brokers[0]!.port}`],
    );
    assert.deepEqual(confluent, { brokers: [4, 5], created: null });
    const kafka = new kafkajs.Kafka({ clientId: 'kraft-roles', brokers: [`127.0.0.1:${brokers[1]!.port}`], logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 5 } });
    const kAdmin = kafka.admin();
    await kAdmin.connect();
    try {
      assert.equal(await kAdmin.createTopics({ topics: [{ topic: 'from-kafkajs', numPartitions: 2 }], waitForLeaders: true }), true);
      const cluster = await kAdmin.describeCluster();
      assert.deepEqual(cluster.brokers.map((b) => b.nodeId).sort(), [4, 5]);
      assert.ok([4, 5].includes(cluster.controller ?? -1), `kafkajs's controller is a broker it can reach: ${cluster.controller}`);
    } finally {
      await kAdmin.disconnect();
    }
    for (const b of brokers) {
      await eventually(`broker ${b.id} has the admin clients' topics`, async () => {
        const t = (await kcatMetadata(b)).topics;
        return t.includes('from-confluent') && t.includes('from-kafkajs') ? true : undefined;
      });
    }

    // Replication factor 2 is placed on both brokers, but followers do not fetch yet: the ISR is
    // the leader alone, so acks=all with min.insync.replicas=2 is refused rather than acknowledged
    // with one copy.
    await ok(['topics', '--bootstrap-server', `127.0.0.1:${brokers[0]!.port}`, '--create', '--topic', 'replicated', '--partitions', '1', '--replication-factor', '2', '--config', 'min.insync.replicas=2']);
    const replicated = await ok(['topics', '--bootstrap-server', `127.0.0.1:${brokers[0]!.port}`, '--describe', '--topic', 'replicated']);
    const row = /\tLeader: (\d+)\tReplicas: (\d+),(\d+)\tIsr: ([\d,]+)/.exec(replicated);
    assert.ok(row !== null, replicated);
    assert.deepEqual([row[2], row[3]].sort(), ['4', '5']);
    assert.equal(row[4], row[1], `the ISR is the leader alone:\n${replicated}`);
    const refused = await kcat(['-b', bs, '-P', '-t', 'replicated', '-X', 'acks=all', '-X', 'message.send.max.retries=0'], { input: 'lonely\n' });
    assert.match(refused.stdout + refused.stderr, /Not enough in-sync replicas|NOT_ENOUGH_REPLICAS/, `${refused.stdout}${refused.stderr}`);

    // kill -9 the active controller: the brokers follow the new leader; changes still go through.
    await nodes.find((n) => n.id === leaderId)!.broker.kill();
    await eventually('a new leader among the controllers', async () => {
      const id = Number((await quorumStatus(`127.0.0.1:${brokers[0]!.port}`)).get('LeaderId'));
      return id !== leaderId && [1, 2, 3].includes(id) ? id : undefined;
    }, 30_000, 200);
    assert.equal(await ok(['topics', '--bootstrap-server', `127.0.0.1:${brokers[0]!.port}`, '--create', '--topic', 'payments', '--partitions', '2']), 'Created topic payments.\n');
    for (const b of brokers) {
      await eventually(`broker ${b.id} has both topics and both brokers`, async () => {
        const md = await kcatMetadata(b);
        return md.brokers.join() === '4,5' && md.topics.join() === 'from-confluent,from-kafkajs,orders,payments,replicated' ? true : undefined;
      }, 30_000, 200);
    }
  });

  it('roles and listeners that do not fit stop start-up with a message naming the key', async () => {
    const base = { 'node.id': '1', 'controller.listener.names': 'CONTROLLER', 'controller.quorum.voters': '1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3', 'log.dirs': '/nonexistent-not-read' };
    const refused = async (overrides: Record<string, string>, pattern: RegExp) => {
      await assert.rejects(Broker.start({ overrides: { ...base, ...overrides }, dataDir: '/nonexistent-not-read' }), (err: Error) => {
        assert.match(err.message, pattern);
        return true;
      });
    };
    await refused({ 'process.roles': 'broker', listeners: 'PLAINTEXT://127.0.0.1:0' }, /configuration 'process.roles': node.id 1 is a voter in controller.quorum.voters, so it needs the controller role/);
    await refused({ 'node.id': '4', 'process.roles': 'controller', listeners: 'CONTROLLER://127.0.0.1:0' }, /configuration 'controller.quorum.voters': node.id 4 has the controller role but is not a voter/);
    await refused({ 'node.id': '4', 'process.roles': 'broker', listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0' }, /configuration 'listeners': the listeners must not contain controller listener names \(CONTROLLER\) when process.roles=broker/);
    await refused({ 'process.roles': 'controller', listeners: 'PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0' }, /configuration 'listeners': the listeners must only contain controller listeners \(CONTROLLER\) when process.roles=controller/);
  });
});
