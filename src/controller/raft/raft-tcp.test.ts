// The KRaft RPCs over real loopback sockets: three drivers, each with its controller listener
// (a SocketServer whose router holds raftRpcHandlers) and a RaftTcpTransport to the others'
// controller.quorum.voters endpoints, elect a leader, commit, fail over when the leader goes and
// catch the restarted one up; the handlers refuse another cluster's requests and other partitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { loggerFor } from '../../logger.js';
import { Reader, Writer, decodeResponseHeader, encodeRequestHeader, requestHeaderVersion, responseHeaderVersion } from '../../protocol/codec/index.js';
import type { MessageCodec } from '../../protocol/codec/message.js';
import { ErrorCode } from '../../protocol/errors.js';
import { DescribeQuorumRequest } from '../../protocol/messages/DescribeQuorumRequest.js';
import { DescribeQuorumResponse } from '../../protocol/messages/DescribeQuorumResponse.js';
import { FetchRequest } from '../../protocol/messages/FetchRequest.js';
import { FetchResponse } from '../../protocol/messages/FetchResponse.js';
import { VoteRequest } from '../../protocol/messages/VoteRequest.js';
import { VoteResponse } from '../../protocol/messages/VoteResponse.js';
import { ListenerSockets } from '../../server/listener-sockets.js';
import { RequestRouter } from '../../server/request-router.js';
import { SocketServer } from '../../server/socket-server.js';
import type { VoterEndpoint } from './quorum-config.js';
import { batchOf, FAST_RAFT_CONFIG, TestVoter, waitFor, waitForLeader } from './raft-driver-test-support.js';
import { encodeRaftRequest } from './raft-rpc-codec.js';
import { raftRpcHandlers } from './raft-rpc-handlers.js';
import { RaftTcpTransport } from './raft-tcp-transport.js';

const CLUSTER_ID = 'MkU3OEVBNTcwNTJENDM2Qg';
const log = loggerFor('raft-test');
const LIMITS = { maxRequestBytes: 100 * 1024 * 1024, maxInFlightRequests: 100, maxQueuedResponseBytes: 64 * 1024 * 1024, idleTimeoutMs: Infinity, requestReadTimeoutMs: Infinity, queuedMaxRequestBytes: Infinity };

class TcpNode {
  transport: RaftTcpTransport | undefined;
  server: SocketServer | undefined;
  readonly voter: TestVoter;

  constructor(
    readonly id: number,
    readonly endpoints: readonly VoterEndpoint[],
  ) {
    this.voter = new TestVoter(id, endpoints.map((e) => e.id), fs.mkdtempSync(path.join(os.tmpdir(), `raft-tcp-${id}-`)), (n) => {
      this.transport = new RaftTcpTransport({ nodeId: n, clusterId: CLUSTER_ID, voters: endpoints, requestTimeoutMs: FAST_RAFT_CONFIG.requestTimeoutMs!, reconnectBackoffMs: 20, reconnectBackoffMaxMs: 200 });
      return this.transport;
    }, FAST_RAFT_CONFIG);
  }

  get port(): number {
    return this.endpoints.find((e) => e.id === this.id)!.port;
  }

  /** Serves the controller listener (on sockets bound earlier, or binding its port again). */
  async start(sockets?: ListenerSockets): Promise<void> {
    const router = new RequestRouter(log);
    for (const h of raftRpcHandlers({
      nodeId: this.id,
      clusterId: CLUSTER_ID,
      controllerListenerNames: ['CONTROLLER'],
      voters: this.endpoints,
      nextInboundCorrelationId: () => this.transport!.nextInboundCorrelationId(),
      deliver: (r) => this.transport!.deliver(r),
      describeQuorum: () => this.voter.driver.describeQuorum(),
    })) {
      router.register(h);
    }
    this.server = new SocketServer(router.frameHandler, LIMITS, log);
    if (sockets !== undefined) this.server.adopt(sockets);
    else await this.server.listen([{ name: 'CONTROLLER', host: '127.0.0.1', port: this.port }]);
    this.voter.start();
  }

  async stop(): Promise<void> {
    this.voter.stop();
    this.transport?.close();
    await this.server?.close();
  }
}

async function tcpCluster(): Promise<TcpNode[]> {
  const ids = [1, 2, 3];
  const sockets = await Promise.all(ids.map(() => ListenerSockets.bind([{ name: 'CONTROLLER', host: '127.0.0.1', port: 0 }], log)));
  const endpoints = ids.map((id, i) => ({ id, host: '127.0.0.1', port: sockets[i]!.bound[0]!.boundPort }));
  const nodes = ids.map((id) => new TcpNode(id, endpoints));
  await Promise.all(nodes.map((n, i) => n.start(sockets[i])));
  return nodes;
}

/** One request on a fresh connection, as a third-party client would send it. */
async function rpc<Req extends object, Res extends object>(port: number, apiKey: number, version: number, reqCodec: MessageCodec<Req>, resCodec: MessageCodec<Res>, data: Req): Promise<Res> {
  const socket = net.createConnection({ host: '127.0.0.1', port });
  try {
    const w = new Writer();
    encodeRequestHeader(w, requestHeaderVersion(apiKey, version), { apiKey, apiVersion: version, correlationId: 7, clientId: 'test' });
    reqCodec.encode(w, version, data);
    const size = Buffer.alloc(4);
    size.writeInt32BE(w.length);
    socket.write(Buffer.concat([size, ...w.chunks()]));
    const frame = await new Promise<Buffer>((resolve, reject) => {
      let buf = Buffer.alloc(0);
      socket.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) resolve(buf.subarray(4, 4 + buf.readInt32BE(0)));
      });
      socket.on('error', reject);
      socket.on('close', () => reject(new Error('connection closed')));
    });
    const r = new Reader(frame);
    assert.equal(decodeResponseHeader(r, responseHeaderVersion(apiKey, version)).correlationId, 7);
    return resCodec.decode(r, version);
  } finally {
    socket.destroy();
  }
}

test('three drivers over loopback KRaft RPCs elect a leader, commit on every voter, and answer DescribeQuorum with one leader and two followers', async () => {
  const nodes = await tcpCluster();
  const voters = nodes.map((n) => n.voter);
  try {
    const leader = await waitForLeader(voters);
    for (let i = 0; i < 20; i++) await leader.driver.propose(batchOf(`a${i}`, `b${i}`), 2);
    await waitFor('every voter applied 40 values', () => voters.every((v) => v.values.length === 40 && v.values[39] === 'b19'));
    const leaderNode = nodes.find((n) => n.id === leader.id)!;
    const req = DescribeQuorumRequest.defaults();
    req.topics = [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }];
    const d = await rpc(leaderNode.port, 55, 2, DescribeQuorumRequest, DescribeQuorumResponse, req);
    const p = d.topics[0]!.partitions[0]!;
    assert.deepEqual([p.errorCode, p.leaderId, p.leaderEpoch], [ErrorCode.NONE, leader.id, leader.driver.status().epoch]);
    assert.deepEqual(p.currentVoters.map((v) => v.replicaId), [1, 2, 3]);
    assert.ok(p.highWatermark >= 41n, `high watermark ${p.highWatermark}`);
    assert.deepEqual(d.nodes.map((n) => [n.nodeId, n.listeners[0]!.name, n.listeners[0]!.port]), nodes.map((n) => [n.id, 'CONTROLLER', n.port]));
    const follower = nodes.find((n) => n.id !== leader.id)!;
    const fromFollower = await rpc(follower.port, 55, 2, DescribeQuorumRequest, DescribeQuorumResponse, req);
    assert.deepEqual([fromFollower.topics[0]!.partitions[0]!.errorCode, fromFollower.topics[0]!.partitions[0]!.leaderId], [ErrorCode.NOT_LEADER_OR_FOLLOWER, leader.id]);
  } finally {
    for (const n of nodes) await n.stop();
  }
});

test('the leader\'s process goes: the others elect a new leader over TCP, and the old one, restarted on its port, catches up', async () => {
  const nodes = await tcpCluster();
  const voters = nodes.map((n) => n.voter);
  try {
    const first = await waitForLeader(voters);
    await first.driver.propose(batchOf('1'), 1);
    const firstNode = nodes.find((n) => n.id === first.id)!;
    await firstNode.stop();
    const rest = voters.filter((v) => v !== first);
    const second = await waitForLeader(rest);
    assert.ok(second.driver.status().epoch > 1);
    await second.driver.propose(batchOf('2'), 1);
    await waitFor('the survivors applied 1,2', () => rest.every((v) => v.values.join() === '1,2'));
    await firstNode.start();
    await waitFor('the restarted voter caught up over TCP', () => first.values.join() === '1,2' && first.driver.leaderAndEpoch().leaderId === second.id);
    await second.driver.propose(batchOf('3'), 1);
    await waitFor('all three applied 3', () => voters.every((v) => v.values.join() === '1,2,3'));
  } finally {
    for (const n of nodes) await n.stop();
  }
});

test('KRaft requests naming another cluster get INCONSISTENT_CLUSTER_ID; another topic or partition gets UNKNOWN_TOPIC_OR_PARTITION; another voter INVALID_VOTER_KEY', async () => {
  const nodes = await tcpCluster();
  try {
    await waitForLeader(nodes.map((n) => n.voter));
    const port = nodes[0]!.port;
    const vote = (clusterId: string, voterId: number, topic = '__cluster_metadata', partition = 0) => {
      const w = encodeRaftRequest({ type: 'voteRequest', from: 2, to: voterId, correlationId: 1, candidateEpoch: 0, candidateId: 2, lastOffsetEpoch: 0, lastOffset: 0, preVote: true }, clusterId).data as ReturnType<typeof VoteRequest.defaults>;
      w.topics[0]!.topicName = topic;
      w.topics[0]!.partitions[0]!.partitionIndex = partition;
      return rpc(port, 52, 2, VoteRequest, VoteResponse, w);
    };
    assert.equal((await vote('another-cluster-id0000', 1)).errorCode, ErrorCode.INCONSISTENT_CLUSTER_ID);
    assert.equal((await vote(CLUSTER_ID, 1, 'other')).topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal((await vote(CLUSTER_ID, 1, '__cluster_metadata', 1)).topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal((await vote(CLUSTER_ID, 3)).topics[0]!.partitions[0]!.errorCode, ErrorCode.INVALID_VOTER_KEY);
    // A pre-vote from a voter with an empty log, while the quorum has a leader: answered, not granted.
    const answered = (await vote(CLUSTER_ID, 1)).topics[0]!.partitions[0]!;
    assert.deepEqual([answered.errorCode, answered.voteGranted], [ErrorCode.NONE, false]);

    const fetch = encodeRaftRequest({ type: 'fetchRequest', from: 9, to: 1, correlationId: 1, replicaId: 9, currentLeaderEpoch: 0, fetchOffset: 0, lastFetchedEpoch: 0, maxWaitMs: 0, maxBytes: 1024 }, 'another-cluster-id0000').data as ReturnType<typeof FetchRequest.defaults>;
    assert.equal((await rpc(port, 1, 17, FetchRequest, FetchResponse, fetch)).errorCode, ErrorCode.INCONSISTENT_CLUSTER_ID);
    fetch.clusterId = CLUSTER_ID;
    fetch.topics[0]!.topicId = 'AAAAAAAAAAAAAAAAAAAAAg';
    assert.equal((await rpc(port, 1, 17, FetchRequest, FetchResponse, fetch)).responses[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  } finally {
    for (const n of nodes) await n.stop();
  }
});
