// Three `process.roles=broker,controller` processes with one three-voter
// controller.quorum.voters, formatted with one cluster id by `tributary storage format`, form one
// cluster: one leader, every broker in Metadata from every node (kcat -L), a topic created
// through a node that is not the active controller (forwarded) seen everywhere; kill -9 of the
// active controller (a consumer group reads partitions led by all three brokers first): a new leader is elected, the topic survives, another topic can be created,
// the dead broker is fenced once its session runs out, and the restarted node catches up.
// `metadata-quorum describe --status` names the leader and the three voters.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { kcat } from '../helpers/clients.js';
import { formatKraftCluster, kcatMetadata, KRAFT_IDS, ok, quorumStatus, type KraftNode } from '../helpers/kraft-cluster.js';
import { eventually } from './support.js';

describe('a three-node KRaft quorum', () => {
  const nodes: KraftNode[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.broker.destroy()));
  });

  it('forms one cluster, survives kill -9 of the active controller, and catches the restarted node up', async () => {
    const formatted = await formatKraftCluster();
    const clusterId = formatted.clusterId;
    nodes.push(...formatted.nodes);
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
    assert.ok(KRAFT_IDS.includes(leaderId as 1 | 2 | 3), `a leader among the voters: ${[...status].join('; ')}`);
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
