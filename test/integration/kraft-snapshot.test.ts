// Metadata snapshots on a three-node KRaft quorum: with a small
// metadata.log.max.record.bytes.between.snapshots every node writes `.checkpoint` files and
// deletes the log below them, so a voter that was down while topics, ACLs and SCRAM users changed
// comes back to a leader whose log starts past its own end: it must catch up from the leader's
// snapshot (fetched with FetchSnapshot), and see the same topics (the deleted one gone), ACLs and
// credentials as the others.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { formatKraftCluster, kcatMetadata, ok, quorumStatus, type KraftNode } from '../helpers/kraft-cluster.js';
import { eventually } from './support.js';

const SNAPSHOT_EVERY_BYTES = 512;

/** End offsets of the `.checkpoint` files in a node's metadata partition directory. */
function checkpoints(node: KraftNode): number[] {
  return readdirSync(join(node.dir, '__cluster_metadata-0'))
    .map((f) => /^(\d{20})-(\d{10})\.checkpoint$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
}

/** End offsets of the snapshots a node's log says it wrote, or loaded, from `since` in its output. */
function snapshotLog(node: KraftNode, msg: 'wrote a metadata snapshot' | 'loading a metadata snapshot', since = 0): number[] {
  const out: number[] = [];
  for (const line of node.broker.logs.slice(since).split('\n')) {
    if (!line.includes(`"msg":"${msg}"`)) continue;
    out.push((JSON.parse(line) as { endOffset: number }).endOffset);
  }
  return out;
}

describe('KRaft metadata snapshots', () => {
  const nodes: KraftNode[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.broker.destroy()));
  });

  it('every node writes snapshots; a voter that missed changes catches up from the leader\'s snapshot', async () => {
    const formatted = await formatKraftCluster({
      'metadata.log.max.record.bytes.between.snapshots': String(SNAPSHOT_EVERY_BYTES),
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      // The tools and kcat connect as ANONYMOUS over PLAINTEXT; the ACLs below are data to carry.
      'super.users': 'User:ANONYMOUS',
    });
    nodes.push(...formatted.nodes);
    await Promise.all(nodes.map((n) => n.broker.start()));
    for (const n of nodes) await eventually(`node ${n.id} lists three brokers`, async () => ((await kcatMetadata(n)).brokers.join() === '1,2,3' ? true : undefined));
    const bootstrap = (n: KraftNode) => `127.0.0.1:${n.port}`;
    const leaderId = Number((await quorumStatus(bootstrap(nodes[0]!))).get('LeaderId'));
    const lagging = nodes.find((n) => n.id !== leaderId)!;
    const others = nodes.filter((n) => n !== lagging);

    await ok(['topics', '--bootstrap-server', bootstrap(others[0]!), '--create', '--topic', 'doomed', '--partitions', '3']);
    await ok(['topics', '--bootstrap-server', bootstrap(others[0]!), '--create', '--topic', 'kept', '--partitions', '3']);
    await ok(['configs', '--bootstrap-server', bootstrap(others[0]!), '--alter', '--add-config', 'SCRAM-SHA-256=[password=alice-secret]', '--entity-type', 'users', '--entity-name', 'alice']);
    await ok(['acls', '--bootstrap-server', bootstrap(others[0]!), '--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--topic', 'kept']);
    for (const n of nodes) await eventually(`node ${n.id} has kept and doomed`, async () => ((await kcatMetadata(n)).topics.join() === 'doomed,kept' ? true : undefined));
    const wroteBefore = snapshotLog(lagging, 'wrote a metadata snapshot');
    assert.ok(wroteBefore.length > 0, `node ${lagging.id} wrote snapshots while up:\n${lagging.broker.logs.slice(-3000)}`);

    assert.ok(readdirSync(lagging.dir).some((d) => d.startsWith('doomed-')), `node ${lagging.id} hosts a partition of doomed: ${readdirSync(lagging.dir).join(' ')}`);

    // The lagging voter goes; the others change topics, users and ACLs while it is away.
    await lagging.broker.kill();
    const logStart = lagging.broker.logs.length;
    const via = bootstrap(others[0]!);
    await ok(['topics', '--bootstrap-server', via, '--delete', '--topic', 'doomed']);
    for (let i = 0; i < 12; i++) await ok(['topics', '--bootstrap-server', via, '--create', '--topic', `bulk-${String(i).padStart(2, '0')}`, '--partitions', '4']);
    await ok(['configs', '--bootstrap-server', via, '--alter', '--add-config', 'SCRAM-SHA-512=[password=bob-secret]', '--entity-type', 'users', '--entity-name', 'bob']);
    await ok(['configs', '--bootstrap-server', via, '--alter', '--delete-config', 'SCRAM-SHA-256', '--entity-type', 'users', '--entity-name', 'alice']);
    await ok(['acls', '--bootstrap-server', via, '--add', '--allow-principal', 'User:bob', '--operation', 'Write', '--topic', 'bulk-00']);
    // The others' snapshots are past everything the lagging node has: their logs start after its end.
    const laggingEnd = Math.max(...wroteBefore, ...checkpoints(lagging));
    for (const n of others) {
      await eventually(`node ${n.id} wrote a snapshot past ${laggingEnd}`, async () => (checkpoints(n).some((o) => o > laggingEnd + 50) ? true : undefined), 30_000, 200);
    }

    await lagging.broker.start();
    const expectedTopics = ['kept', ...Array.from({ length: 12 }, (_, i) => `bulk-${String(i).padStart(2, '0')}`)].sort().join();
    await eventually('the restarted node has the others\' topics and three brokers', async () => {
      const md = await kcatMetadata(lagging);
      return md.brokers.join() === '1,2,3' && md.topics.join() === expectedTopics ? true : undefined;
    }, 30_000, 200);
    // It loaded a snapshot it never wrote: the leader's, fetched.
    const loaded = snapshotLog(lagging, 'loading a metadata snapshot', logStart);
    assert.ok(loaded.some((o) => o > laggingEnd && !wroteBefore.includes(o)), `a fetched snapshot past ${laggingEnd} loaded (loaded ${loaded.join(',')}):\n${lagging.broker.logs.slice(logStart, logStart + 4000)}`);

    // Its partition of the deleted topic is gone from its disk: the snapshot, installed over its
    // own older state, removed the topic.
    await eventually('the deleted topic\'s directory is gone', async () => (readdirSync(lagging.dir).some((d) => d.startsWith('doomed-')) ? undefined : true), 10_000, 100);

    // Credentials and ACLs as the others have them, from the snapshot.
    const users = await ok(['configs', '--bootstrap-server', bootstrap(lagging), '--describe', '--entity-type', 'users']);
    assert.equal(users, "SCRAM credential configs for user-principal 'bob' are SCRAM-SHA-512=iterations=4096\n");
    const list = await ok(['acls', '--bootstrap-server', bootstrap(lagging), '--list']);
    assert.match(list, /name=kept, patternType=LITERAL\)`: \n \t\(principal=User:alice, host=\*, operation=READ, permissionType=ALLOW\)/);
    assert.match(list, /name=bulk-00, patternType=LITERAL\)`: \n \t\(principal=User:bob, host=\*, operation=WRITE, permissionType=ALLOW\)/);
    // And it is a working voter again: a topic created through it is seen everywhere.
    await ok(['topics', '--bootstrap-server', bootstrap(lagging), '--create', '--topic', 'after-snapshot', '--partitions', '1']);
    for (const n of nodes) await eventually(`node ${n.id} has after-snapshot`, async () => ((await kcatMetadata(n)).topics.includes('after-snapshot') ? true : undefined));
  });
});
