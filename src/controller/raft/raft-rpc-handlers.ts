// The KRaft RPCs a controller serves on its controller listener (controller.listener.names):
// Vote (52) v0-2, BeginQuorumEpoch (53) v0-1, EndQuorumEpoch (54) v0-1, Fetch (1) v13-18 of
// `__cluster_metadata-0` by topic id, FetchSnapshot (59) v0-1, DescribeQuorum (55) v0-2.
//
// Each handler checks, before the core sees anything: the listener (these are controller APIs:
// on another listener the connection is closed, as for an api key that listener lacks); the
// ClusterId (a request naming another cluster gets INCONSISTENT_CLUSTER_ID at the top level;
// null is accepted, as Kafka does for old clients); the voter it is addressed to (VoterId of
// Vote/BeginQuorumEpoch v1+: INVALID_VOTER_KEY); exactly one topic and partition (else
// INVALID_REQUEST), and that it is `__cluster_metadata-0` (else UNKNOWN_TOPIC_OR_PARTITION).
// Then the request goes to the driver through the transport and the core's response is the answer.
// DescribeQuorum is answered by the leader (NOT_LEADER_OR_FOLLOWER elsewhere), with v2's nodes
// from controller.quorum.voters.
//
// Kafka serves the controller listener with its own request handler (ControllerApis); so do
// these: register them on a RequestRouter of their own, for the controller listener's
// SocketServer (its Fetch is KRaft's, not the broker's).
import { ZERO_UUID } from '../../protocol/codec/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import { BeginQuorumEpochRequest } from '../../protocol/messages/BeginQuorumEpochRequest.js';
import { BeginQuorumEpochResponse } from '../../protocol/messages/BeginQuorumEpochResponse.js';
import { DescribeQuorumRequest } from '../../protocol/messages/DescribeQuorumRequest.js';
import { DescribeQuorumResponse } from '../../protocol/messages/DescribeQuorumResponse.js';
import { EndQuorumEpochRequest } from '../../protocol/messages/EndQuorumEpochRequest.js';
import { EndQuorumEpochResponse } from '../../protocol/messages/EndQuorumEpochResponse.js';
import { FetchRequest } from '../../protocol/messages/FetchRequest.js';
import { FetchResponse } from '../../protocol/messages/FetchResponse.js';
import { FetchSnapshotRequest } from '../../protocol/messages/FetchSnapshotRequest.js';
import { FetchSnapshotResponse } from '../../protocol/messages/FetchSnapshotResponse.js';
import { VoteRequest } from '../../protocol/messages/VoteRequest.js';
import { VoteResponse } from '../../protocol/messages/VoteResponse.js';
import { METADATA_TOPIC } from '../../metadata/topic-names.js';
import { CloseConnection } from '../../server/connection.js';
import type { MessageCodec } from '../../protocol/codec/message.js';
import { defineHandler, type RequestContext } from '../../server/request-router.js';
import type { VoterEndpoint } from './quorum-config.js';
import type { QuorumDescription, ReplicaDescription } from './raft-node.js';
import {
  decodeBeginQuorumEpochRequest,
  decodeEndQuorumEpochRequest,
  decodeFetchRequest,
  decodeFetchSnapshotRequest,
  decodeVoteRequest,
  encodeRaftResponse,
  errorResponse,
  METADATA_PARTITION,
  RAFT_API,
  type Decoded,
} from './raft-rpc-codec.js';
import { RaftInboundTimeoutError, RaftTransportClosedError } from './raft-tcp-transport.js';
import type { LeaderAndEpoch, RaftRequest, RaftResponse } from './types.js';

/** What the handlers need: who we are, and the driver behind its transport. */
export interface RaftRpcServer {
  readonly nodeId: number;
  readonly clusterId: string;
  /** controller.listener.names (upper case). */
  readonly controllerListenerNames: readonly string[];
  readonly voters: readonly VoterEndpoint[];
  /** RaftTcpTransport.nextInboundCorrelationId. */
  nextInboundCorrelationId(): number;
  /** RaftTcpTransport.deliver. */
  deliver(request: RaftRequest): Promise<RaftResponse>;
  /** RaftDriver.describeQuorum. */
  describeQuorum(): Promise<QuorumDescription | { readonly notLeader: LeaderAndEpoch }>;
}

function checkListener(server: Pick<RaftRpcServer, 'controllerListenerNames'>, ctx: RequestContext, api: string): void {
  if (!server.controllerListenerNames.includes(ctx.connection.listenerName.toUpperCase())) {
    throw new CloseConnection(`${api} is served on the controller listener (${server.controllerListenerNames.join(',')}), not on ${ctx.connection.listenerName}`);
  }
}

/** The answer to a request that passed the checks: the core's, or an error when it gave none. */
async function ask(server: RaftRpcServer, apiKey: number, decoded: Decoded<RaftRequest>): Promise<object> {
  if ('error' in decoded) {
    return decoded.error === ErrorCode.INVALID_REQUEST ? errorResponse(apiKey, ErrorCode.INVALID_REQUEST, ErrorCode.NONE) : errorResponse(apiKey, ErrorCode.NONE, decoded.error);
  }
  try {
    return encodeRaftResponse(await server.deliver(decoded.request));
  } catch (err) {
    if (err instanceof RaftInboundTimeoutError) return errorResponse(apiKey, ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NONE);
    if (err instanceof RaftTransportClosedError) return errorResponse(apiKey, ErrorCode.NOT_CONTROLLER, ErrorCode.NONE);
    throw err;
  }
}

function wrongCluster(server: RaftRpcServer, clusterId: string | null): boolean {
  return clusterId !== null && clusterId !== server.clusterId;
}

/** One of the RPCs the core answers: its codecs, versions and how to read it for the core. */
function coreHandler<Req extends { readonly clusterId: string | null }, Res extends object>(
  server: RaftRpcServer,
  spec: {
    readonly name: string;
    readonly apiKey: number;
    readonly request: MessageCodec<Req>;
    readonly response: MessageCodec<Res>;
    readonly minVersion: number;
    readonly maxVersion: number;
    /** VoterId of the request (v1+), when it has one: the voter it is addressed to. */
    readonly voterId?: (req: Req, version: number) => number;
    readonly decode: (req: Req, version: number, correlationId: number) => Decoded<RaftRequest>;
  },
) {
  return defineHandler({
    request: spec.request,
    response: spec.response,
    minVersion: spec.minVersion,
    maxVersion: spec.maxVersion,
    async handle(ctx, req) {
      checkListener(server, ctx, spec.name);
      // The response objects are built by raft-rpc-codec.ts for spec.apiKey: they are Res.
      if (wrongCluster(server, req.clusterId)) return errorResponse(spec.apiKey, ErrorCode.INCONSISTENT_CLUSTER_ID, ErrorCode.NONE) as Res;
      const voterId = spec.voterId?.(req, ctx.apiVersion) ?? -1;
      if (voterId >= 0 && voterId !== server.nodeId) return errorResponse(spec.apiKey, ErrorCode.NONE, ErrorCode.INVALID_VOTER_KEY) as Res;
      return (await ask(server, spec.apiKey, spec.decode(req, ctx.apiVersion, server.nextInboundCorrelationId()))) as Res;
    },
  });
}

export function raftRpcHandlers(server: RaftRpcServer) {
  const self = server.nodeId;
  return [
    coreHandler(server, {
      name: 'Vote', apiKey: RAFT_API.Vote, request: VoteRequest, response: VoteResponse, minVersion: 0, maxVersion: 2,
      voterId: (req, v) => (v >= 1 ? req.voterId : -1),
      decode: (req, _v, id) => decodeVoteRequest(req, self, id),
    }),
    coreHandler(server, {
      name: 'BeginQuorumEpoch', apiKey: RAFT_API.BeginQuorumEpoch, request: BeginQuorumEpochRequest, response: BeginQuorumEpochResponse, minVersion: 0, maxVersion: 1,
      voterId: (req, v) => (v >= 1 ? req.voterId : -1),
      decode: (req, _v, id) => decodeBeginQuorumEpochRequest(req, self, id),
    }),
    coreHandler(server, {
      name: 'EndQuorumEpoch', apiKey: RAFT_API.EndQuorumEpoch, request: EndQuorumEpochRequest, response: EndQuorumEpochResponse, minVersion: 0, maxVersion: 1,
      decode: (req, v, id) => decodeEndQuorumEpochRequest(req, v, self, id),
    }),
    // Topic ids (v13) are how KRaft names `__cluster_metadata`; ReplicaState comes in v15.
    coreHandler(server, {
      name: 'Fetch', apiKey: RAFT_API.Fetch, request: FetchRequest, response: FetchResponse, minVersion: 13, maxVersion: 18,
      decode: (req, v, id) => decodeFetchRequest(req, v, self, id),
    }),
    coreHandler(server, {
      name: 'FetchSnapshot', apiKey: RAFT_API.FetchSnapshot, request: FetchSnapshotRequest, response: FetchSnapshotResponse, minVersion: 0, maxVersion: 1,
      decode: (req, _v, id) => decodeFetchSnapshotRequest(req, self, id),
    }),
    describeQuorumHandler(server),
  ];
}

/**
 * DescribeQuorum (55) v0-2 of `__cluster_metadata-0`. On the controller listener by default; with
 * `anyListener` also on a broker's listeners (Kafka's brokers answer it for
 * `kafka-metadata-quorum --bootstrap-server`, asking the active controller).
 */
export function describeQuorumHandler(server: Pick<RaftRpcServer, 'controllerListenerNames' | 'voters' | 'describeQuorum'>, opts: { readonly anyListener?: boolean } = {}) {
  return defineHandler({
    request: DescribeQuorumRequest,
    response: DescribeQuorumResponse,
    minVersion: 0,
    maxVersion: 2,
    async handle(ctx, req) {
      if (opts.anyListener !== true) checkListener(server, ctx, 'DescribeQuorum');
      const res = DescribeQuorumResponse.defaults();
      if (req.topics.length !== 1 || req.topics[0]!.partitions.length !== 1) {
        res.errorCode = ErrorCode.INVALID_REQUEST;
        return res;
      }
      const partition = { ...DescribeQuorumResponse.newStruct('PartitionData'), partitionIndex: req.topics[0]!.partitions[0]!.partitionIndex };
      res.topics = [{ topicName: req.topics[0]!.topicName, partitions: [partition] }];
      if (req.topics[0]!.topicName !== METADATA_TOPIC || partition.partitionIndex !== METADATA_PARTITION) {
        partition.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        return res;
      }
      const d = await server.describeQuorum();
      if ('notLeader' in d) {
        partition.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
        partition.leaderId = d.notLeader.leaderId;
        partition.leaderEpoch = d.notLeader.epoch;
        return res;
      }
      const replica = (r: ReplicaDescription) => ({ replicaId: r.replicaId, replicaDirectoryId: ZERO_UUID, logEndOffset: BigInt(r.logEndOffset), lastFetchTimestamp: BigInt(Math.floor(r.lastFetchTimestamp)), lastCaughtUpTimestamp: BigInt(Math.floor(r.lastCaughtUpTimestamp)) });
      partition.leaderId = d.leaderId;
      partition.leaderEpoch = d.leaderEpoch;
      partition.highWatermark = BigInt(d.highWatermark);
      partition.currentVoters = d.currentVoters.map(replica);
      partition.observers = d.observers.map(replica);
      const listener = server.controllerListenerNames[0] ?? 'CONTROLLER';
      if (ctx.apiVersion >= 2) res.nodes = server.voters.map((v) => ({ nodeId: v.id, listeners: [{ name: listener, host: v.host, port: v.port }] }));
      return res;
    },
  });
}
