// A test double for leader changes on a single-node broker: a Kafka-protocol proxy that listens
// on two loopback ports pretending to be brokers 1 and 2 of one cluster, in front of ONE real
// Tributary broker. The test decides which node leads (every partition at once); each switch
// raises the leader epoch.
//
// - Metadata, FindCoordinator and DescribeCluster are forwarded and their answers rewritten: both
//   nodes with the proxy's ports, every partition led by the current leader with the proxy's
//   epoch, the coordinator on `coordinatorNode`.
// - Produce, Fetch and ListOffsets that reach the node that does not lead are answered here with
//   NOT_LEADER_OR_FOLLOWER per partition (Fetch v12+ and Produce v10+ also name the current
//   leader, as KIP-951 brokers do). A currentLeaderEpoch older than the proxy's is answered with
//   FENCED_LEADER_EPOCH, a newer one with UNKNOWN_LEADER_EPOCH, on either node, as Kafka does;
//   epochs that pass are cleared before forwarding because the real broker has its own.
// - Everything else (ApiVersions, InitProducerId, group and offset APIs, admin APIs) is forwarded
//   from either node.
//
// Each downstream connection gets its own upstream connection, opened on its first forwarded
// request, so correlation ids pass through unchanged and responses come back in request order
// (the broker answers a connection's requests in order). The downstream side is the project's
// own server Connection, whose in-flight limit also bounds what waits upstream.
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { Reader, Writer, decodeRequestHeader, decodeResponseHeader, encodeResponseHeader, responseHeaderVersion, type RequestHeader } from '../../src/protocol/codec/index.js';
import type { MessageCodec } from '../../src/protocol/codec/message.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { DescribeClusterResponse } from '../../src/protocol/messages/DescribeClusterResponse.js';
import { FetchRequest, type FetchRequestData } from '../../src/protocol/messages/FetchRequest.js';
import { FetchResponse, type FetchResponseData } from '../../src/protocol/messages/FetchResponse.js';
import { FindCoordinatorResponse } from '../../src/protocol/messages/FindCoordinatorResponse.js';
import { ListOffsetsRequest, type ListOffsetsRequestData } from '../../src/protocol/messages/ListOffsetsRequest.js';
import { ListOffsetsResponse, type ListOffsetsResponseData } from '../../src/protocol/messages/ListOffsetsResponse.js';
import { MetadataResponse } from '../../src/protocol/messages/MetadataResponse.js';
import { ProduceRequest } from '../../src/protocol/messages/ProduceRequest.js';
import { ProduceResponse, type ProduceResponseData } from '../../src/protocol/messages/ProduceResponse.js';
import { loggerFor } from '../../src/logger.js';
import { CloseConnection, Connection, type ConnectionInfo, type ResponseChunks } from '../../src/server/connection.js';
import { RequestMemoryPool } from '../../src/server/request-memory-pool.js';

export type NodeId = 1 | 2;
export const PROXY_NODES: readonly NodeId[] = [1, 2];

const API_PRODUCE = 0;
const API_FETCH = 1;
const API_LIST_OFFSETS = 2;
const API_METADATA = 3;
const API_FIND_COORDINATOR = 10;
const API_DESCRIBE_CLUSTER = 60;

const LIMITS = { maxRequestBytes: 100 * 1024 * 1024, maxInFlightRequests: 64, maxQueuedResponseBytes: 16 * 1024 * 1024 };
// No timeouts here (nothing advances this clock) and no shared memory bound: a test helper.
const NO_CLOCK = { nowMs: 0 };
const HOST = '127.0.0.1';

/** One upstream connection: frames out, response frames back in FIFO order. */
class UpstreamLink {
  private readonly socket: Socket;
  private readonly waiting: { correlationId: number; resolve: (frame: Buffer) => void; reject: (err: Error) => void }[] = [];
  private inbound: Buffer = Buffer.alloc(0);
  private closedReason: Error | null = null;

  /** `onBroken` gets how many forwarded requests lost their answers. */
  constructor(host: string, port: number, private readonly onBroken: (lostAnswers: number) => void) {
    this.socket = netConnect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new CloseConnection('upstream closed')));
  }

  /** Sends a request frame (without size prefix); resolves with the response frame, or null
   * at once when no response is expected (Produce acks=0). */
  forward(chunks: Buffer[], correlationId: number, expectResponse: boolean): Promise<Buffer | null> {
    if (this.closedReason !== null) return Promise.reject(this.closedReason);
    let size = 0;
    for (const c of chunks) size += c.length;
    const prefix = Buffer.allocUnsafe(4);
    prefix.writeInt32BE(size, 0);
    this.socket.cork();
    this.socket.write(prefix);
    for (const c of chunks) this.socket.write(c);
    this.socket.uncork();
    if (!expectResponse) return Promise.resolve(null);
    return new Promise((resolve, reject) => this.waiting.push({ correlationId, resolve, reject }));
  }

  private onData(chunk: Buffer): void {
    this.inbound = this.inbound.length === 0 ? chunk : Buffer.concat([this.inbound, chunk]);
    while (this.inbound.length >= 4) {
      const size = this.inbound.readInt32BE(0);
      if (this.inbound.length < 4 + size) return;
      const frame = this.inbound.subarray(4, 4 + size);
      this.inbound = this.inbound.subarray(4 + size);
      const w = this.waiting.shift();
      if (w === undefined || frame.readInt32BE(0) !== w.correlationId) {
        // The broker answers in order; anything else is a proxy bug and must not pass silently.
        this.fail(new Error(`upstream answered correlation id ${frame.readInt32BE(0)}, expected ${w?.correlationId ?? 'none'}`));
        w?.reject(this.closedReason!);
        return;
      }
      w.resolve(frame);
    }
  }

  private fail(err: Error): void {
    if (this.closedReason !== null) return;
    this.closedReason = err;
    this.socket.destroy();
    const lost = this.waiting.splice(0);
    for (const w of lost) w.reject(err);
    this.onBroken(lost.length);
  }

  close(): void {
    // CloseConnection: the server connection drops the pending requests quietly.
    this.fail(new CloseConnection('downstream closed'));
  }
}

interface Downstream {
  node: NodeId;
  conn: Connection;
  upstream: UpstreamLink | null;
}

type EpochCheck = typeof ErrorCode.NONE | typeof ErrorCode.FENCED_LEADER_EPOCH | typeof ErrorCode.UNKNOWN_LEADER_EPOCH;

export class LeaderSwitchProxy {
  private readonly servers: Server[] = [];
  private readonly ports = new Map<NodeId, number>();
  private readonly downstream = new Map<number, Downstream>();
  private nextConnectionId = 1;
  private leaderNode: NodeId = 1;
  private epoch = 1;
  /** Node FindCoordinator names as every group's and transaction's coordinator. */
  coordinatorNode: NodeId = 1;
  /** Requests seen, by `${node}:${apiKey}`. */
  private readonly requestCounts = new Map<string, number>();
  /** Partition results answered here with an error, by error code. */
  private readonly errorCounts = new Map<number, number>();
  private readonly log = loggerFor('leader-switch-proxy');
  private readonly requestMemory = new RequestMemoryPool(Infinity, this.log);
  private lostAnswerCount = 0;
  private armed: { apiKey: number; fired: () => void } | null = null;
  /**
   * While true, every Produce that reaches the leader is passed to the broker and answered there
   * (so it is written), then its connection is cut: the client never learns the outcome.
   */
  loseProduceAnswers = false;

  private constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {}

  /** Listens on two free loopback ports in front of the broker at `upstream` ("host:port"). */
  static async start(upstream: string): Promise<LeaderSwitchProxy> {
    const i = upstream.lastIndexOf(':');
    const proxy = new LeaderSwitchProxy(upstream.slice(0, i), Number(upstream.slice(i + 1)));
    for (const node of PROXY_NODES) await proxy.listen(node);
    return proxy;
  }

  private async listen(node: NodeId): Promise<void> {
    const server = createServer({ noDelay: true }, (socket) => {
      const id = this.nextConnectionId++;
      const conn = new Connection(id, `NODE${node}`, socket, (frame, info) => this.onFrame(frame, info), LIMITS, this.requestMemory, NO_CLOCK, this.log, () => {
        this.downstream.get(id)?.upstream?.close();
        this.downstream.delete(id);
      });
      this.downstream.set(id, { node, conn, upstream: null });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: HOST, port: 0 }, () => resolve());
    });
    const addr = server.address();
    if (typeof addr !== 'object' || addr === null) throw new Error('proxy listener has no address');
    this.servers.push(server);
    this.ports.set(node, addr.port);
  }

  /** Both nodes, for a client's bootstrap.servers. */
  get bootstrapServers(): string {
    return PROXY_NODES.map((n) => this.addressOf(n)).join(',');
  }

  addressOf(node: NodeId): string {
    return `${HOST}:${this.ports.get(node)!}`;
  }

  get leader(): NodeId {
    return this.leaderNode;
  }

  get leaderEpoch(): number {
    return this.epoch;
  }

  /**
   * Moves leadership of every partition to `to` (default: the other node); the epoch rises.
   * `dropConnections` also cuts every connection to the old leader, as when a broker fails:
   * requests already passed on may be written by the broker while their answers are lost.
   */
  switchLeader(to?: NodeId, opts: { dropConnections?: boolean } = {}): void {
    const old = this.leaderNode;
    this.leaderNode = to ?? (old === 1 ? 2 : 1);
    this.epoch++;
    if (opts.dropConnections === true && old !== this.leaderNode) {
      for (const d of this.downstream.values()) if (d.node === old) d.conn.close();
    }
  }

  /**
   * Fails the leader over at the worst moment: the next request of `apiKey` on the leader is
   * passed to the broker and answered there, then the leader switches and every connection to
   * the old leader is cut, so that answer (and any other in flight) never reaches the client.
   * Resolves once that happened; rejects (and disarms) if no such request came within `timeoutMs`.
   */
  switchAfterNext(apiKey: number, timeoutMs: number): Promise<void> {
    if (this.armed !== null) return Promise.reject(new Error('a switch is already armed'));
    return new Promise((resolve, reject) => {
      const armed = {
        apiKey,
        fired: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        if (this.armed === armed) this.armed = null;
        reject(new Error(`no request of api key ${apiKey} reached leader ${this.leaderNode} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.armed = armed;
    });
  }

  /**
   * The next Produce that reaches the leader is answered here with `code` for every partition,
   * without passing it on (so nothing of it is written): a broker that lost the producer's state
   * (UNKNOWN_PRODUCER_ID, OUT_OF_ORDER_SEQUENCE_NUMBER) for the test of the producer's recovery.
   */
  failNextProduce(code: number): void {
    this.produceFault = code;
  }

  /** Forwarded requests whose answers never reached the client (cut connections). */
  get lostAnswers(): number {
    return this.lostAnswerCount;
  }

  /** Requests of an api key seen on a node (or on both). */
  requests(apiKey: number, node?: NodeId): number {
    const nodes = node === undefined ? PROXY_NODES : [node];
    let n = 0;
    for (const x of nodes) n += this.requestCounts.get(`${x}:${apiKey}`) ?? 0;
    return n;
  }

  /** Partition results this proxy answered with `code` (NOT_LEADER_OR_FOLLOWER, ...). */
  answeredWith(code: number): number {
    return this.errorCounts.get(code) ?? 0;
  }

  async close(): Promise<void> {
    const closing = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const d of this.downstream.values()) {
      d.upstream?.close();
      d.conn.close();
    }
    this.downstream.clear();
    await Promise.all(closing);
  }

  private onFrame(frame: Buffer, info: ConnectionInfo): Promise<ResponseChunks> {
    const d = this.downstream.get(info.id);
    if (d === undefined) return Promise.resolve(null);
    const header = decodeRequestHeader(frame);
    const key = `${d.node}:${header.apiKey}`;
    this.requestCounts.set(key, (this.requestCounts.get(key) ?? 0) + 1);
    if (this.loseProduceAnswers && header.apiKey === API_PRODUCE && d.node === this.leaderNode) {
      return this.answer(d, frame, header).then(() => {
        this.lostAnswerCount++;
        d.conn.close();
        return null;
      });
    }
    const armed = this.armed;
    if (armed !== null && armed.apiKey === header.apiKey && d.node === this.leaderNode) {
      this.armed = null;
      return this.answer(d, frame, header).then(() => {
        this.lostAnswerCount++;
        this.switchLeader(undefined, { dropConnections: true });
        armed.fired();
        return null;
      });
    }
    return this.answer(d, frame, header);
  }

  private answer(d: Downstream, frame: Buffer, header: RequestHeader): Promise<ResponseChunks> {
    switch (header.apiKey) {
      case API_PRODUCE:
        return this.produce(d, frame, header);
      case API_FETCH:
        return this.fetch(d, frame, header);
      case API_LIST_OFFSETS:
        return this.listOffsets(d, frame, header);
      case API_METADATA:
        return this.rewrite(d, frame, header, MetadataResponse, (res, v) => {
          res.brokers = PROXY_NODES.map((nodeId) => ({ nodeId, host: HOST, port: this.ports.get(nodeId)!, rack: null }));
          if (v >= 1) res.controllerId = 1;
          for (const t of res.topics) {
            for (const p of t.partitions) {
              if (p.errorCode !== ErrorCode.NONE) continue;
              p.leaderId = this.leaderNode;
              if (v >= 7) p.leaderEpoch = this.epoch;
              p.replicaNodes = [...PROXY_NODES];
              p.isrNodes = [...PROXY_NODES];
            }
          }
        });
      case API_FIND_COORDINATOR:
        return this.rewrite(d, frame, header, FindCoordinatorResponse, (res, v) => {
          const port = this.ports.get(this.coordinatorNode)!;
          if (v < 4) {
            if (res.errorCode === ErrorCode.NONE) Object.assign(res, { nodeId: this.coordinatorNode, host: HOST, port });
          } else {
            for (const c of res.coordinators) if (c.errorCode === ErrorCode.NONE) Object.assign(c, { nodeId: this.coordinatorNode, host: HOST, port });
          }
        });
      case API_DESCRIBE_CLUSTER:
        return this.rewrite(d, frame, header, DescribeClusterResponse, (res) => {
          res.controllerId = 1;
          res.brokers = PROXY_NODES.map((brokerId) => ({ brokerId, host: HOST, port: this.ports.get(brokerId)!, rack: null, isFenced: false }));
        });
      default:
        return this.forwardRaw(d, [frame], header.correlationId, true);
    }
  }

  private forwardRaw(d: Downstream, chunks: Buffer[], correlationId: number, expectResponse: boolean): Promise<ResponseChunks> {
    d.upstream ??= new UpstreamLink(this.upstreamHost, this.upstreamPort, (lost) => {
      this.lostAnswerCount += lost;
      d.conn.close();
    });
    return d.upstream.forward(chunks, correlationId, expectResponse).then((frame) => (frame === null ? null : [frame]));
  }

  /** Forwards, then decodes the answer, lets `edit` change it and encodes it again. */
  private async rewrite<Res extends object>(d: Downstream, frame: Buffer, header: RequestHeader, codec: MessageCodec<Res>, edit: (res: Res, version: number) => void): Promise<ResponseChunks> {
    const chunks = await this.forwardRaw(d, [frame], header.correlationId, true);
    const res = this.decodeResponse(chunks![0]!, header, codec);
    edit(res, header.apiVersion);
    return this.encodeResponse(header, codec, res);
  }

  private decodeResponse<Res extends object>(frame: Buffer, header: RequestHeader, codec: MessageCodec<Res>): Res {
    const r = new Reader(frame);
    decodeResponseHeader(r, responseHeaderVersion(header.apiKey, header.apiVersion));
    return codec.decode(r, header.apiVersion);
  }

  private encodeResponse<Res extends object>(header: RequestHeader, codec: MessageCodec<Res>, res: Res): ResponseChunks {
    const w = new Writer();
    encodeResponseHeader(w, responseHeaderVersion(header.apiKey, header.apiVersion), header.correlationId);
    codec.encode(w, header.apiVersion, res);
    return w.chunks();
  }

  private encodeRequest<Req extends object>(frame: Buffer, header: RequestHeader, codec: MessageCodec<Req>, req: Req): Buffer[] {
    const w = new Writer();
    codec.encode(w, header.apiVersion, req);
    return [frame.subarray(0, header.headerBytes), ...w.chunks()];
  }

  private checkEpoch(currentLeaderEpoch: number): EpochCheck {
    if (currentLeaderEpoch < 0) return ErrorCode.NONE;
    if (currentLeaderEpoch < this.epoch) return ErrorCode.FENCED_LEADER_EPOCH;
    if (currentLeaderEpoch > this.epoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
    return ErrorCode.NONE;
  }

  /** The error a partition gets here, NONE when it may go to the broker. */
  private partitionError(d: Downstream, currentLeaderEpoch: number): number {
    const epochError = this.checkEpoch(currentLeaderEpoch);
    if (epochError !== ErrorCode.NONE) return epochError;
    return d.node === this.leaderNode ? ErrorCode.NONE : ErrorCode.NOT_LEADER_OR_FOLLOWER;
  }

  private count(code: number): void {
    this.errorCounts.set(code, (this.errorCounts.get(code) ?? 0) + 1);
  }

  private produceFault: number | null = null;

  private async produce(d: Downstream, frame: Buffer, header: RequestHeader): Promise<ResponseChunks> {
    const req = ProduceRequest.decode(new Reader(frame, header.headerBytes), header.apiVersion);
    const fault = d.node === this.leaderNode ? this.produceFault : null;
    if (fault === null && d.node === this.leaderNode) return this.forwardRaw(d, [frame], header.correlationId, req.acks !== 0);
    if (req.acks === 0) return null;
    const code = fault ?? ErrorCode.NOT_LEADER_OR_FOLLOWER;
    this.produceFault = null;
    const v = header.apiVersion;
    const res: ProduceResponseData = ProduceResponse.defaults();
    res.responses = req.topicData.map((t) => ({
      ...ProduceResponse.newStruct('TopicProduceResponse'),
      name: t.name,
      partitionResponses: t.partitionData.map((p) => {
        this.count(code);
        const pr = ProduceResponse.newStruct('PartitionProduceResponse');
        pr.index = p.index;
        pr.errorCode = code;
        if (v >= 10 && fault === null) pr.currentLeader = { leaderId: this.leaderNode, leaderEpoch: this.epoch };
        return pr;
      }),
    }));
    if (v >= 10 && fault === null) res.nodeEndpoints = [{ nodeId: this.leaderNode, host: HOST, port: this.ports.get(this.leaderNode)!, rack: null }];
    return this.encodeResponse(header, ProduceResponse, res);
  }

  private async fetch(d: Downstream, frame: Buffer, header: RequestHeader): Promise<ResponseChunks> {
    const v = header.apiVersion;
    const req: FetchRequestData = FetchRequest.decode(new Reader(frame, header.headerBytes), v);
    const errors: { topic: string; topicId: string; partition: number; code: number }[] = [];
    let epochsSent = false;
    for (const t of req.topics) {
      for (const p of t.partitions) {
        if (p.currentLeaderEpoch >= 0) epochsSent = true;
        const code = this.partitionError(d, p.currentLeaderEpoch);
        if (code !== ErrorCode.NONE) errors.push({ topic: t.topic, topicId: t.topicId, partition: p.partition, code });
      }
    }
    if (errors.length === 0 && !epochsSent) return this.forwardRaw(d, [frame], header.correlationId, true);
    const failed = new Set(errors.map((e) => `${e.topic}\0${e.topicId}\0${e.partition}`));
    // What may go upstream, with epochs cleared (the real broker keeps epochs of its own).
    for (const t of req.topics) {
      t.partitions = t.partitions.filter((p) => !failed.has(`${t.topic}\0${t.topicId}\0${p.partition}`));
      for (const p of t.partitions) p.currentLeaderEpoch = -1;
    }
    req.topics = req.topics.filter((t) => t.partitions.length > 0);
    let res: FetchResponseData;
    if (req.topics.length > 0) {
      const chunks = await this.forwardRaw(d, this.encodeRequest(frame, header, FetchRequest, req), header.correlationId, true);
      res = this.decodeResponse(chunks![0]!, header, FetchResponse);
    } else {
      res = FetchResponse.defaults();
    }
    for (const e of errors) {
      this.count(e.code);
      let t = res.responses.find((x) => x.topic === e.topic && x.topicId === e.topicId);
      if (t === undefined) {
        t = { ...FetchResponse.newStruct('FetchableTopicResponse'), topic: e.topic, topicId: e.topicId, partitions: [] };
        res.responses.push(t);
      }
      const p = FetchResponse.newStruct('PartitionData');
      p.partitionIndex = e.partition;
      p.errorCode = e.code;
      p.highWatermark = -1n;
      p.records = Buffer.alloc(0);
      if (v >= 12) p.currentLeader = { leaderId: this.leaderNode, leaderEpoch: this.epoch };
      t.partitions.push(p);
    }
    if (v >= 16 && errors.length > 0) res.nodeEndpoints = [{ nodeId: this.leaderNode, host: HOST, port: this.ports.get(this.leaderNode)!, rack: null }];
    return this.encodeResponse(header, FetchResponse, res);
  }

  private async listOffsets(d: Downstream, frame: Buffer, header: RequestHeader): Promise<ResponseChunks> {
    const v = header.apiVersion;
    const req: ListOffsetsRequestData = ListOffsetsRequest.decode(new Reader(frame, header.headerBytes), v);
    const errors: { topic: string; partition: number; code: number }[] = [];
    let epochsSent = false;
    for (const t of req.topics) {
      for (const p of t.partitions) {
        if (p.currentLeaderEpoch >= 0) epochsSent = true;
        const code = this.partitionError(d, p.currentLeaderEpoch);
        if (code !== ErrorCode.NONE) errors.push({ topic: t.name, partition: p.partitionIndex, code });
      }
    }
    if (errors.length === 0 && !epochsSent) return this.forwardRaw(d, [frame], header.correlationId, true);
    const failed = new Set(errors.map((e) => `${e.topic}\0${e.partition}`));
    for (const t of req.topics) {
      t.partitions = t.partitions.filter((p) => !failed.has(`${t.name}\0${p.partitionIndex}`));
      for (const p of t.partitions) p.currentLeaderEpoch = -1;
    }
    req.topics = req.topics.filter((t) => t.partitions.length > 0);
    let res: ListOffsetsResponseData;
    if (req.topics.length > 0) {
      const chunks = await this.forwardRaw(d, this.encodeRequest(frame, header, ListOffsetsRequest, req), header.correlationId, true);
      res = this.decodeResponse(chunks![0]!, header, ListOffsetsResponse);
    } else {
      res = ListOffsetsResponse.defaults();
    }
    for (const e of errors) {
      this.count(e.code);
      let t = res.topics.find((x) => x.name === e.topic);
      if (t === undefined) {
        t = { ...ListOffsetsResponse.newStruct('ListOffsetsTopicResponse'), name: e.topic, partitions: [] };
        res.topics.push(t);
      }
      const p = ListOffsetsResponse.newStruct('ListOffsetsPartitionResponse');
      p.partitionIndex = e.partition;
      p.errorCode = e.code;
      t.partitions.push(p);
    }
    return this.encodeResponse(header, ListOffsetsResponse, res);
  }
}
