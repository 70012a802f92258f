// The core's RaftMessages <-> Kafka's KRaft RPCs (the generated codecs), both ways: what the
// client side of the TCP transport sends and reads back, and what the server side's handlers
// read and answer. One partition, `__cluster_metadata-0`; Fetch names it by topic id (v13+).
//
// Versions sent (Kafka 4.0's): Vote v2 (PreVote, KIP-996), BeginQuorumEpoch v1, EndQuorumEpoch v1
// (PreferredCandidates), Fetch v17 (ReplicaState), FetchSnapshot v1. Served: every version of
// the specs (see raft-rpc-handlers.ts). Directory ids (KIP-853) are sent as the zero uuid:
// static voters only.
//
// The responses carry fewer fields than the core's response structs: the echoed fields
// (candidateEpoch/preVote, fetchOffset/lastFetchedEpoch) and the addressing come from the
// request the client kept with its correlation id (raft-node.ts, contract item 3).
import { ZERO_UUID } from '../../protocol/codec/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import { BeginQuorumEpochRequest, type BeginQuorumEpochRequestData } from '../../protocol/messages/BeginQuorumEpochRequest.js';
import { BeginQuorumEpochResponse, type BeginQuorumEpochResponseData } from '../../protocol/messages/BeginQuorumEpochResponse.js';
import { EndQuorumEpochRequest, type EndQuorumEpochRequestData } from '../../protocol/messages/EndQuorumEpochRequest.js';
import { EndQuorumEpochResponse, type EndQuorumEpochResponseData } from '../../protocol/messages/EndQuorumEpochResponse.js';
import { FetchRequest, type FetchRequestData } from '../../protocol/messages/FetchRequest.js';
import { FetchResponse, type FetchResponseData } from '../../protocol/messages/FetchResponse.js';
import { FetchSnapshotRequest, type FetchSnapshotRequestData } from '../../protocol/messages/FetchSnapshotRequest.js';
import { FetchSnapshotResponse, type FetchSnapshotResponseData } from '../../protocol/messages/FetchSnapshotResponse.js';
import { VoteRequest, type VoteRequestData } from '../../protocol/messages/VoteRequest.js';
import { VoteResponse, type VoteResponseData } from '../../protocol/messages/VoteResponse.js';
import type { MessageCodec } from '../../protocol/codec/message.js';
import { METADATA_TOPIC } from '../../metadata/topic-names.js';
import { raftBatchBytes, raftBatchesFromBytes } from './raft-batch-codec.js';
import type * as M from './types.js';

/** Kafka's Uuid.METADATA_TOPIC_ID (0, 1): the topic id of `__cluster_metadata`. */
export const METADATA_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';
export const METADATA_PARTITION = 0;

export const RAFT_API = {
  Fetch: 1,
  Vote: 52,
  BeginQuorumEpoch: 53,
  EndQuorumEpoch: 54,
  DescribeQuorum: 55,
  FetchSnapshot: 59,
} as const;

/** Versions the client sends. */
export const SENT_VERSION = { Vote: 2, BeginQuorumEpoch: 1, EndQuorumEpoch: 1, Fetch: 17, FetchSnapshot: 1 } as const;

/** A request on the wire: its codec pair and version, and the data. */
export interface WireRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  // The codecs of different messages share this slot; they are only ever used as a pair.
  readonly request: MessageCodec<object>;
  readonly response: MessageCodec<object>;
  readonly data: object;
}

/** A partition-level problem with the request's addressing (checked before the core sees it). */
export type AddressError = typeof ErrorCode.UNKNOWN_TOPIC_OR_PARTITION | typeof ErrorCode.INVALID_REQUEST;

// ---------------------------------------------------------------------------------------------
// Client side: request -> wire, wire response -> core response

export function encodeRaftRequest(req: M.RaftRequest, clusterId: string): WireRequest {
  switch (req.type) {
    case 'voteRequest': {
      const data = VoteRequest.defaults();
      data.clusterId = clusterId;
      data.voterId = req.to;
      data.topics = [{ topicName: METADATA_TOPIC, partitions: [{ ...VoteRequest.newStruct('PartitionData'), partitionIndex: METADATA_PARTITION, candidateEpoch: req.candidateEpoch, candidateId: req.candidateId, candidateDirectoryId: ZERO_UUID, voterDirectoryId: ZERO_UUID, lastOffsetEpoch: req.lastOffsetEpoch, lastOffset: BigInt(req.lastOffset), preVote: req.preVote }] }];
      return wire(RAFT_API.Vote, SENT_VERSION.Vote, VoteRequest, VoteResponse, data);
    }
    case 'beginQuorumEpochRequest': {
      const data = BeginQuorumEpochRequest.defaults();
      data.clusterId = clusterId;
      data.voterId = req.to;
      data.topics = [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: METADATA_PARTITION, voterDirectoryId: ZERO_UUID, leaderId: req.leaderId, leaderEpoch: req.leaderEpoch }] }];
      return wire(RAFT_API.BeginQuorumEpoch, SENT_VERSION.BeginQuorumEpoch, BeginQuorumEpochRequest, BeginQuorumEpochResponse, data);
    }
    case 'endQuorumEpochRequest': {
      const data = EndQuorumEpochRequest.defaults();
      data.clusterId = clusterId;
      data.topics = [{ topicName: METADATA_TOPIC, partitions: [{ ...EndQuorumEpochRequest.newStruct('PartitionData'), partitionIndex: METADATA_PARTITION, leaderId: req.leaderId, leaderEpoch: req.leaderEpoch, preferredCandidates: req.preferredSuccessors.map((candidateId) => ({ candidateId, candidateDirectoryId: ZERO_UUID })) }] }];
      return wire(RAFT_API.EndQuorumEpoch, SENT_VERSION.EndQuorumEpoch, EndQuorumEpochRequest, EndQuorumEpochResponse, data);
    }
    case 'fetchRequest': {
      const data = FetchRequest.defaults();
      data.clusterId = clusterId;
      data.replicaState = { replicaId: req.replicaId, replicaEpoch: -1n };
      data.maxWaitMs = req.maxWaitMs;
      data.minBytes = 0;
      data.maxBytes = req.maxBytes;
      data.topics = [{ ...FetchRequest.newStruct('FetchTopic'), topicId: METADATA_TOPIC_ID, partitions: [{ ...FetchRequest.newStruct('FetchPartition'), partition: METADATA_PARTITION, currentLeaderEpoch: req.currentLeaderEpoch, fetchOffset: BigInt(req.fetchOffset), lastFetchedEpoch: req.lastFetchedEpoch, partitionMaxBytes: req.maxBytes }] }];
      return wire(RAFT_API.Fetch, SENT_VERSION.Fetch, FetchRequest, FetchResponse, data);
    }
    case 'fetchSnapshotRequest': {
      const data = FetchSnapshotRequest.defaults();
      data.clusterId = clusterId;
      data.replicaId = req.replicaId;
      data.maxBytes = req.maxBytes;
      data.topics = [{ name: METADATA_TOPIC, partitions: [{ partition: METADATA_PARTITION, currentLeaderEpoch: req.currentLeaderEpoch, snapshotId: { endOffset: BigInt(req.snapshotId.endOffset), epoch: req.snapshotId.epoch }, position: BigInt(req.position), replicaDirectoryId: ZERO_UUID }] }];
      return wire(RAFT_API.FetchSnapshot, SENT_VERSION.FetchSnapshot, FetchSnapshotRequest, FetchSnapshotResponse, data);
    }
  }
}

function wire<Req extends object, Res extends object>(apiKey: number, apiVersion: number, request: MessageCodec<Req>, response: MessageCodec<Res>, data: Req): WireRequest {
  return { apiKey, apiVersion, request: request as unknown as MessageCodec<object>, response: response as unknown as MessageCodec<object>, data };
}

/** Why a response could not be given to the core (it is dropped: the core retries on timeout). */
export class RaftResponseError extends Error {
  override name = 'RaftResponseError';
  constructor(
    message: string,
    readonly errorCode: number,
  ) {
    super(message);
  }
}

/** The single partition of a response, or a RaftResponseError naming what is wrong. */
function onlyPartition<P>(topErrorCode: number, topics: ReadonlyArray<{ readonly partitions: readonly P[] }>, what: string): P {
  if (topErrorCode !== ErrorCode.NONE) throw new RaftResponseError(`${what}: error ${topErrorCode}`, topErrorCode);
  const p = topics[0]?.partitions[0];
  if (topics.length !== 1 || topics[0]!.partitions.length !== 1 || p === undefined) throw new RaftResponseError(`${what}: expected one partition`, ErrorCode.INVALID_REQUEST);
  return p;
}

/** `data` is the decoded response to `req`, sent to `req.to`. */
export function decodeRaftResponse(req: M.RaftRequest, data: object): M.RaftResponse {
  const env = { from: req.to, to: req.from, correlationId: req.correlationId };
  switch (req.type) {
    case 'voteRequest': {
      const d = data as VoteResponseData;
      const p = onlyPartition(d.errorCode, d.topics, `VoteResponse from ${req.to}`);
      return { type: 'voteResponse', ...env, errorCode: p.errorCode as M.RaftErrorCode, leaderId: p.leaderId, leaderEpoch: p.leaderEpoch, voteGranted: p.voteGranted, candidateEpoch: req.candidateEpoch, preVote: req.preVote };
    }
    case 'beginQuorumEpochRequest': {
      const d = data as BeginQuorumEpochResponseData;
      const p = onlyPartition(d.errorCode, d.topics, `BeginQuorumEpochResponse from ${req.to}`);
      return { type: 'beginQuorumEpochResponse', ...env, errorCode: p.errorCode as M.RaftErrorCode, leaderId: p.leaderId, leaderEpoch: p.leaderEpoch };
    }
    case 'endQuorumEpochRequest': {
      const d = data as EndQuorumEpochResponseData;
      const p = onlyPartition(d.errorCode, d.topics, `EndQuorumEpochResponse from ${req.to}`);
      return { type: 'endQuorumEpochResponse', ...env, errorCode: p.errorCode as M.RaftErrorCode, leaderId: p.leaderId, leaderEpoch: p.leaderEpoch };
    }
    case 'fetchRequest': {
      const d = data as FetchResponseData;
      const p = onlyPartition(d.errorCode, d.responses, `FetchResponse from ${req.to}`);
      const records = p.records === null || p.records.length === 0 ? [] : raftBatchesFromBytes(p.records, `fetch response from ${req.to}`, true);
      return {
        type: 'fetchResponse',
        ...env,
        errorCode: p.errorCode as M.RaftErrorCode,
        currentLeader: { leaderId: p.currentLeader.leaderId, epoch: p.currentLeader.leaderEpoch },
        highWatermark: Number(p.highWatermark),
        logStartOffset: Number(p.logStartOffset),
        records,
        ...(p.divergingEpoch.epoch >= 0 && p.divergingEpoch.endOffset >= 0n ? { divergingEpoch: { epoch: p.divergingEpoch.epoch, offset: Number(p.divergingEpoch.endOffset) } } : {}),
        ...(p.snapshotId.epoch >= 0 && p.snapshotId.endOffset >= 0n ? { snapshotId: { endOffset: Number(p.snapshotId.endOffset), epoch: p.snapshotId.epoch } } : {}),
        fetchOffset: req.fetchOffset,
        lastFetchedEpoch: req.lastFetchedEpoch,
      };
    }
    case 'fetchSnapshotRequest': {
      const d = data as FetchSnapshotResponseData;
      const p = onlyPartition(d.errorCode, d.topics, `FetchSnapshotResponse from ${req.to}`);
      return {
        type: 'fetchSnapshotResponse',
        ...env,
        errorCode: p.errorCode as M.RaftErrorCode,
        currentLeader: { leaderId: p.currentLeader.leaderId, epoch: p.currentLeader.leaderEpoch },
        snapshotId: { endOffset: Number(p.snapshotId.endOffset), epoch: p.snapshotId.epoch },
        size: Number(p.size),
        position: Number(p.position),
        bytes: p.unalignedRecords ?? Buffer.alloc(0),
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Server side: wire request -> core request (or an addressing error), core response -> wire

/** Checks that a request names exactly `__cluster_metadata-0` (by name, or by id for Fetch). */
function address(topics: ReadonlyArray<{ readonly partitions: ReadonlyArray<unknown> }>, name: (i: number) => boolean, partition: (p: never) => number): AddressError | undefined {
  if (topics.length !== 1 || topics[0]!.partitions.length !== 1) return ErrorCode.INVALID_REQUEST;
  if (!name(0) || partition(topics[0]!.partitions[0] as never) !== METADATA_PARTITION) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  return undefined;
}

export type Decoded<T> = { readonly request: T } | { readonly error: AddressError };

/** `correlationId` is the server's own id for pairing the core's answer with this request. */
export function decodeVoteRequest(d: VoteRequestData, self: number, correlationId: number): Decoded<M.VoteRequest> {
  const error = address(d.topics, (i) => d.topics[i]!.topicName === METADATA_TOPIC, (p: { partitionIndex: number }) => p.partitionIndex);
  if (error !== undefined) return { error };
  const p = d.topics[0]!.partitions[0]!;
  return { request: { type: 'voteRequest', from: p.candidateId, to: self, correlationId, candidateEpoch: p.candidateEpoch, candidateId: p.candidateId, lastOffsetEpoch: p.lastOffsetEpoch, lastOffset: Number(p.lastOffset), preVote: p.preVote } };
}

export function decodeBeginQuorumEpochRequest(d: BeginQuorumEpochRequestData, self: number, correlationId: number): Decoded<M.BeginQuorumEpochRequest> {
  const error = address(d.topics, (i) => d.topics[i]!.topicName === METADATA_TOPIC, (p: { partitionIndex: number }) => p.partitionIndex);
  if (error !== undefined) return { error };
  const p = d.topics[0]!.partitions[0]!;
  return { request: { type: 'beginQuorumEpochRequest', from: p.leaderId, to: self, correlationId, leaderId: p.leaderId, leaderEpoch: p.leaderEpoch } };
}

export function decodeEndQuorumEpochRequest(d: EndQuorumEpochRequestData, version: number, self: number, correlationId: number): Decoded<M.EndQuorumEpochRequest> {
  const error = address(d.topics, (i) => d.topics[i]!.topicName === METADATA_TOPIC, (p: { partitionIndex: number }) => p.partitionIndex);
  if (error !== undefined) return { error };
  const p = d.topics[0]!.partitions[0]!;
  const preferredSuccessors = version >= 1 ? p.preferredCandidates.map((c) => c.candidateId) : p.preferredSuccessors;
  return { request: { type: 'endQuorumEpochRequest', from: p.leaderId, to: self, correlationId, leaderId: p.leaderId, leaderEpoch: p.leaderEpoch, preferredSuccessors } };
}

export function decodeFetchRequest(d: FetchRequestData, version: number, self: number, correlationId: number): Decoded<M.FetchRequest> {
  const error = address(d.topics, (i) => (version >= 13 ? d.topics[i]!.topicId === METADATA_TOPIC_ID : d.topics[i]!.topic === METADATA_TOPIC), (p: { partition: number }) => p.partition);
  if (error !== undefined) return { error };
  const p = d.topics[0]!.partitions[0]!;
  const replicaId = version >= 15 ? d.replicaState.replicaId : d.replicaId;
  return {
    request: { type: 'fetchRequest', from: replicaId, to: self, correlationId, replicaId, currentLeaderEpoch: p.currentLeaderEpoch, fetchOffset: Number(p.fetchOffset), lastFetchedEpoch: p.lastFetchedEpoch, maxWaitMs: d.maxWaitMs, maxBytes: Math.min(d.maxBytes, p.partitionMaxBytes) },
  };
}

export function decodeFetchSnapshotRequest(d: FetchSnapshotRequestData, self: number, correlationId: number): Decoded<M.FetchSnapshotRequest> {
  const error = address(d.topics, (i) => d.topics[i]!.name === METADATA_TOPIC, (p: { partition: number }) => p.partition);
  if (error !== undefined) return { error };
  const p = d.topics[0]!.partitions[0]!;
  return {
    request: { type: 'fetchSnapshotRequest', from: d.replicaId, to: self, correlationId, replicaId: d.replicaId, currentLeaderEpoch: p.currentLeaderEpoch, snapshotId: { endOffset: Number(p.snapshotId.endOffset), epoch: p.snapshotId.epoch }, position: Number(p.position), maxBytes: d.maxBytes },
  };
}

/** A response with `error` at the top (INCONSISTENT_CLUSTER_ID, ...) or for the one partition. */
export function errorResponse(apiKey: number, topLevel: number, partitionLevel: number): object {
  switch (apiKey) {
    case RAFT_API.Vote: {
      const r = VoteResponse.defaults();
      r.errorCode = topLevel;
      if (partitionLevel !== ErrorCode.NONE) r.topics = [{ topicName: METADATA_TOPIC, partitions: [{ ...VoteResponse.newStruct('PartitionData'), partitionIndex: METADATA_PARTITION, errorCode: partitionLevel, leaderId: -1, leaderEpoch: -1 }] }];
      return r;
    }
    case RAFT_API.BeginQuorumEpoch:
    case RAFT_API.EndQuorumEpoch: {
      const r = apiKey === RAFT_API.BeginQuorumEpoch ? BeginQuorumEpochResponse.defaults() : EndQuorumEpochResponse.defaults();
      r.errorCode = topLevel;
      if (partitionLevel !== ErrorCode.NONE) r.topics = [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: METADATA_PARTITION, errorCode: partitionLevel, leaderId: -1, leaderEpoch: -1 }] }];
      return r;
    }
    case RAFT_API.Fetch: {
      const r = FetchResponse.defaults();
      r.errorCode = topLevel;
      if (partitionLevel !== ErrorCode.NONE) r.responses = [{ ...FetchResponse.newStruct('FetchableTopicResponse'), topic: METADATA_TOPIC, topicId: METADATA_TOPIC_ID, partitions: [{ ...FetchResponse.newStruct('PartitionData'), partitionIndex: METADATA_PARTITION, errorCode: partitionLevel, highWatermark: -1n, records: null }] }];
      return r;
    }
    case RAFT_API.FetchSnapshot: {
      const r = FetchSnapshotResponse.defaults();
      r.errorCode = topLevel;
      if (partitionLevel !== ErrorCode.NONE) {
        r.topics = [{ name: METADATA_TOPIC, partitions: [{ ...FetchSnapshotResponse.newStruct('PartitionSnapshot'), index: METADATA_PARTITION, errorCode: partitionLevel, unalignedRecords: Buffer.alloc(0) }] }];
      }
      return r;
    }
    default:
      throw new Error(`no KRaft response for api key ${apiKey}`);
  }
}

/** The core's response as the wire message of its request's api. */
export function encodeRaftResponse(res: M.RaftResponse): object {
  switch (res.type) {
    case 'voteResponse': {
      const r = VoteResponse.defaults();
      r.topics = [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: METADATA_PARTITION, errorCode: res.errorCode, leaderId: res.leaderId, leaderEpoch: res.leaderEpoch, voteGranted: res.voteGranted }] }];
      return r;
    }
    case 'beginQuorumEpochResponse':
    case 'endQuorumEpochResponse': {
      const r = res.type === 'beginQuorumEpochResponse' ? BeginQuorumEpochResponse.defaults() : EndQuorumEpochResponse.defaults();
      r.topics = [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: METADATA_PARTITION, errorCode: res.errorCode, leaderId: res.leaderId, leaderEpoch: res.leaderEpoch }] }];
      return r;
    }
    case 'fetchResponse': {
      const r = FetchResponse.defaults();
      const p = FetchResponse.newStruct('PartitionData');
      p.partitionIndex = METADATA_PARTITION;
      p.errorCode = res.errorCode;
      p.highWatermark = BigInt(res.highWatermark);
      p.logStartOffset = BigInt(res.logStartOffset);
      p.currentLeader = { leaderId: res.currentLeader.leaderId, leaderEpoch: res.currentLeader.epoch };
      if (res.divergingEpoch !== undefined) p.divergingEpoch = { epoch: res.divergingEpoch.epoch, endOffset: BigInt(res.divergingEpoch.offset) };
      if (res.snapshotId !== undefined) p.snapshotId = { endOffset: BigInt(res.snapshotId.endOffset), epoch: res.snapshotId.epoch };
      p.records = res.records.length === 0 ? Buffer.alloc(0) : Buffer.concat(res.records.map(raftBatchBytes));
      r.responses = [{ ...FetchResponse.newStruct('FetchableTopicResponse'), topic: METADATA_TOPIC, topicId: METADATA_TOPIC_ID, partitions: [p] }];
      return r;
    }
    case 'fetchSnapshotResponse': {
      const r = FetchSnapshotResponse.defaults();
      r.topics = [{
        name: METADATA_TOPIC,
        partitions: [{
          index: METADATA_PARTITION,
          errorCode: res.errorCode,
          snapshotId: { endOffset: BigInt(res.snapshotId.endOffset), epoch: res.snapshotId.epoch },
          currentLeader: { leaderId: res.currentLeader.leaderId, leaderEpoch: res.currentLeader.epoch },
          size: BigInt(res.size),
          position: BigInt(res.position),
          unalignedRecords: res.bytes,
        }],
      }];
      return r;
    }
  }
}
