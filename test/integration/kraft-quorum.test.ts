// Three `process.roles=broker,controller` processes with one three-voter
// controller.quorum.voters, formatted with one cluster id by `tributary storage format`, form one
// cluster: one leader, every broker in Metadata from every node (kcat -L), a topic created
// through a node that is not the active controller (forwarded) seen everywhere; kill -9 of the
// active controller (a consumer group reads partitions led by all three brokers first): a new leader is elected, the topic survives, another topic can be created,
// the dead broker is fenced once its session runs out, and the restarted node catches up.
// `metadata-quorum describe --status` names the leader and the three voters.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BrokerProcess, freePort, tempDir, tributaryBin } from '../helpers/broker-process.js';
import { kcat, run, type RunResult } from '../helpers/clients.js';
import { eventually } from './support.js';

const IDS = [1, 2, 3] as const;

interface Node {
  id: number;
  port: number;
  controllerPort: number;
  dir: string;
  broker: BrokerProcess;
}

const tool = (args: string[]): Promise<RunResult> => run(process.execPath, [tributaryBin, ...args], { timeoutMs: 60_000 });

async function ok(args: string[]): Promise<string> {
  const r = await tool(args);
  assert.equal(r.code, 0, `${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** What `kcat -L` against `node` lists: broker ids and topic names (internal ones left out). */
async function kcatMetadata(node: Node): Promise<{ brokers: number[]; topics: string[] }> {
  const r = await kcat(['-b', `127.0.0.1:${node.port}`, '-L', '-m', '10']);
  assert.equal(r.code, 0, r.stderr);
  const brokers = [...r.stdout.matchAll(/^ {2}broker (\d+) at /gm)].map((m) => Number(m[1]));
  const topics = [...r.stdout.matchAll(/^ {2}topic "([^"]+)" with/gm)].map((m) => m[1]!).filter((t) => !t.startsWith('__')).sort();
  return { brokers: brokers.sort(), topics };
}

/** `metadata-quorum describe --status` fields. */
async function quorumStatus(bootstrap: string, flag = '--bootstrap-server'): Promise<Map<string, string>> {
  const out = await ok(['metadata-quorum', flag, bootstrap, 'describe', '--status']);
  return new Map(out.trimEnd().split('\n').map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim()] as [string, string];
  }));
}

describe('a three-node KRaft quorum', () => {
  const nodes: Node[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.broker.destroy()));
  });

  it('forms one cluster, survives kill -9 of the active controller, and catches the restarted node up', async () => {
    const root = tempDir('tributary-kraft-');
    const ports = await Promise.all(IDS.map(async () => ({ port: await freePort(), controllerPort: await freePort() })));
    const voters = IDS.map((id, i) => `${id}@127.0.0.1:${ports[i]!.controllerPort}`).join(',');
    const clusterId = (await ok(['storage', 'random-uuid'])).trim();
    for (const [i, id] of IDS.entries()) {
      const { port, controllerPort } = ports[i]!;
      const dir = join(root, `node-${id}`);
      const settings: Record<string, string> = {
        'node.id': String(id),
        'process.roles': 'broker,controller',
        listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
        'controller.listener.names': 'CONTROLLER',
        'controller.quorum.voters': voters,
        'log.dirs': dir,
        'broker.session.timeout.ms': '3000',
        'broker.heartbeat.interval.ms': '500',
      };
      const file = join(root, `node-${id}.properties`);
      writeFileSync(file, Object.entries(settings).map(([k, v]) => `${k}=${v}\n`).join(''));
      await ok(['storage', 'format', '--config', file, '--cluster-id', clusterId]);
      nodes.push({ id, port, controllerPort, dir, broker: new BrokerProcess({ dataDir: dir, port, overrides: settings }) });
    }
    // Each waits for a majority before it reports itself started: all three start together.
    await Promise.all(nodes.map((n) => n.broker.start()));

    // One cluster: the same id and all three brokers from every node.
    for (const n of nodes) {
      assert.equal((await ok(['cluster-id', '--bootstrap-server', `127.0.0.1:${n.port}`])).trim(), `Cluster ID: ${clusterId}`);
      await eventually(`node ${n.id} lists three brokers`, async () => ((await kcatMetadata(n)).brokers.join() === '1,2,3' ? true : undefined));
    }
    const status = await quorumStatus(`127.0.0.1:${nodes[0]!.port}`);
    assert.equal(status.get('ClusterId'), clusterId);
    const leaderId = Number(status.get('LeaderId'));
    assert.ok(IDS.includes(leaderId as 1 | 2 | 3), `a leader among the voters: ${[...status].join('; ')}`);
    for (const n of nodes) assert.ok(status.get('CurrentVoters')!.includes(`{"id": ${n.id}, "directoryId": null, "endpoints": ["CONTROLLER://127.0.0.1:${n.controllerPort}"]}`), status.get('CurrentVoters'));
    // Asked of a follower's controller listener: the same leader.
    const follower = nodes.find((n) => n.id !== leaderId)!;
    assert.equal((await quorumStatus(`127.0.0.1:${follower.controllerPort}`, '--bootstrap-controller')).get('LeaderId'), String(leaderId));

    // A topic created through a node that is not the active controller (forwarded to it).
    const viaNode = nodes.find((n) => n.id !== leaderId)!;
    assert.equal(await ok(['topics', '--bootstrap-server', `127.0.0.1:${viaNode.port}`, '--create', '--topic', 'orders', '--partitions', '3']), 'Created topic orders.\n');
    for (const n of nodes) await eventually(`node ${n.id} has orders`, async () => ((await kcatMetadata(n)).topics.includes('orders') ? true : undefined));
    // Its partitions are spread over the three brokers (replication factor 1), each served by its
    // own; a consumer group, coordinated by whichever broker leads its __consumer_offsets
    // partition, reads them all.
    const bs = nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
    for (const p of [0, 1, 2]) {
      const produced = await kcat(['-b', bs, '-P', '-t', 'orders', '-p', String(p)], { input: `record-${p}\n` });
      assert.equal(produced.code, 0, produced.stderr);
    }
    const consumed = await kcat(['-b', `127.0.0.1:${nodes[2]!.port}`, '-G', 'kraft-group', '-X', 'auto.offset.reset=earliest', '-q', '-e', '-f', '%p:%s\n', 'orders'], { timeoutMs: 60_000 });
    assert.deepEqual(consumed.stdout.trim().split('\n').sort(), ['0:record-0', '1:record-1', '2:record-2'], consumed.stderr);

    // kill -9 the active controller.
    const dead = nodes.find((n) => n.id === leaderId)!;
    await dead.broker.kill();
    const survivors = nodes.filter((n) => n !== dead);
    const newLeader = await eventually(
      'a new leader',
      async () => {
        const s = await quorumStatus(`127.0.0.1:${survivors[0]!.port}`);
        const id = Number(s.get('LeaderId'));
        return id !== leaderId && survivors.some((n) => n.id === id) ? id : undefined;
      },
      30_000,
      200,
    );
    for (const n of survivors) assert.ok((await kcatMetadata(n)).topics.includes('orders'), `node ${n.id} still has orders`);
    const other = survivors.find((n) => n.id !== newLeader)!;
    assert.equal(await ok(['topics', '--bootstrap-server', `127.0.0.1:${other.port}`, '--create', '--topic', 'payments', '--partitions', '2']), 'Created topic payments.\n');
    // The dead broker is fenced once broker.session.timeout.ms passes without its heartbeats.
    for (const n of survivors) {
      await eventually(`node ${n.id} lists the two live brokers with both topics`, async () => {
        const md = await kcatMetadata(n);
        return md.brokers.join() === survivors.map((s) => s.id).join() && md.topics.join() === 'orders,payments' ? true : undefined;
      }, 30_000, 200);
    }

    // The killed node restarts and catches up: both topics, three brokers again.
    await dead.broker.start();
    await eventually('the restarted node has both topics and three brokers', async () => {
      const md = await kcatMetadata(dead);
      return md.brokers.join() === '1,2,3' && md.topics.join() === 'orders,payments' ? true : undefined;
    }, 30_000, 200);
    const after = await quorumStatus(`127.0.0.1:${dead.port}`);
    assert.equal(after.get('LeaderId'), String(newLeader));
    assert.equal(after.get('ClusterId'), clusterId);
  });
});
