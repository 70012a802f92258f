// The ControllerChannel of a broker in a KRaft cluster: while this node's own controller is the
// active one, changes go to it in-process; otherwise they are forwarded to the active controller
// over its controller listener with Kafka's own requests (CreateTopics, DeleteTopics,
// CreatePartitions, IncrementalAlterConfigs, UpdateFeatures, CreateAcls, DeleteAcls,
// AlterUserScramCredentials, BrokerRegistration, BrokerHeartbeat, AllocateProducerIds), as Kafka's brokers forward to theirs. So a client may send a
// metadata-changing admin request to any broker.
//
// Retries (Kafka's NodeToControllerChannelManager): an answer of NOT_CONTROLLER (leadership
// moved while the change was planned or proposed), a controller not known yet (an election) or a
// connection that failed is tried again, after `retryBackoffMs`, until `timeoutMs` has passed
// since the first attempt; then the last answer (or REQUEST_TIMED_OUT) is returned. A change
// whose proposal failed with NOT_CONTROLLER may still have been committed by the next leader: a
// retried CreateTopics then answers TOPIC_ALREADY_EXISTS, as Kafka's does.
//
// The controller mutation quota of a forwarded change is the active controller's (the quota
// argument of the local call is not carried on the wire).
import type { FeatureUpdate } from '../metadata/features.js';
import { fromMatchingAcl, toAclCreation, toAclFilterFields, type AclBinding, type AclBindingFilter } from '../protocol/acls.js';
import type {
  BrokerHeartbeatAnswer,
  BrokerHeartbeatRequest,
  BrokerRegistrationRequest,
  ConfigChange,
  ControllerChannel,
  CreatedTopic,
  ItemResult,
  NewTopic,
  PartitionIncrease,
  PartitionMutationQuota,
  ScramCredentialDeletion,
  ScramCredentialUpsertion,
  TopicResult,
  TopicToDelete,
} from '../metadata/controller-channel.js';
import { ConfigResourceType } from '../metadata/records.js';
import type { MessageCodec } from '../protocol/codec/message.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { CreateAclsRequest } from '../protocol/messages/CreateAclsRequest.js';
import { CreateAclsResponse } from '../protocol/messages/CreateAclsResponse.js';
import { DeleteAclsRequest } from '../protocol/messages/DeleteAclsRequest.js';
import { DeleteAclsResponse } from '../protocol/messages/DeleteAclsResponse.js';
import { AlterUserScramCredentialsRequest } from '../protocol/messages/AlterUserScramCredentialsRequest.js';
import { AlterUserScramCredentialsResponse } from '../protocol/messages/AlterUserScramCredentialsResponse.js';
import { AllocateProducerIdsRequest } from '../protocol/messages/AllocateProducerIdsRequest.js';
import { AllocateProducerIdsResponse } from '../protocol/messages/AllocateProducerIdsResponse.js';
import { BrokerHeartbeatRequest as BrokerHeartbeatRequestCodec } from '../protocol/messages/BrokerHeartbeatRequest.js';
import { BrokerHeartbeatResponse } from '../protocol/messages/BrokerHeartbeatResponse.js';
import { BrokerRegistrationRequest as BrokerRegistrationRequestCodec } from '../protocol/messages/BrokerRegistrationRequest.js';
import { BrokerRegistrationResponse } from '../protocol/messages/BrokerRegistrationResponse.js';
import { CreatePartitionsRequest } from '../protocol/messages/CreatePartitionsRequest.js';
import { CreatePartitionsResponse } from '../protocol/messages/CreatePartitionsResponse.js';
import { CreateTopicsRequest } from '../protocol/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../protocol/messages/CreateTopicsResponse.js';
import { DeleteTopicsRequest } from '../protocol/messages/DeleteTopicsRequest.js';
import { DeleteTopicsResponse } from '../protocol/messages/DeleteTopicsResponse.js';
import { IncrementalAlterConfigsRequest } from '../protocol/messages/IncrementalAlterConfigsRequest.js';
import { IncrementalAlterConfigsResponse } from '../protocol/messages/IncrementalAlterConfigsResponse.js';
import { UpdateFeaturesRequest } from '../protocol/messages/UpdateFeaturesRequest.js';
import { UpdateFeaturesResponse } from '../protocol/messages/UpdateFeaturesResponse.js';
import { ControllerUnreachableError, type ControllerConnections, type ControllerEndpoint } from './controller-connection.js';

/** Kafka's ConfigSource DYNAMIC_TOPIC_CONFIG: a topic's own override in a CreateTopics answer. */
const DYNAMIC_TOPIC_CONFIG = 1;
const OP_SET = 0;
const OP_DELETE = 1;

export interface ForwardingControllerOptions {
  /** This node's controller: used while it is active. */
  readonly local: ControllerChannel & { readonly active: boolean };
  /** The active controller's listener, or null while none is known. */
  readonly activeController: () => ControllerEndpoint | null;
  readonly connections: Pick<ControllerConnections, 'send'>;
  readonly clusterId: string;
  readonly brokerId: number;
  /** How long a change is retried in all (Kafka's request.timeout.ms for forwarding). */
  readonly timeoutMs: number;
  readonly retryBackoffMs: number;
  readonly nowMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** Sends one request to the active controller. */
type Send = <Req extends object, Res extends object>(apiKey: number, version: number, req: MessageCodec<Req>, res: MessageCodec<Res>, data: Req) => Promise<Res>;

/** One change, as the local call and as the request to the active controller. */
interface Route<T> {
  local(c: ControllerChannel): Promise<T>;
  remote(send: Send): Promise<T>;
  /** Whether the answer says the controller was not (or no longer) active: try again. */
  notController(answer: T): boolean;
  failed(err: KafkaError): T;
}

export class ForwardingControllerChannel implements ControllerChannel {
  constructor(private readonly opts: ForwardingControllerOptions) {}

  private async route<T>(r: Route<T>): Promise<T> {
    const deadline = this.opts.nowMs() + this.opts.timeoutMs;
    let last: T | undefined;
    for (;;) {
      let answer: T | undefined;
      try {
        if (this.opts.local.active) answer = await r.local(this.opts.local);
        else {
          const endpoint = this.opts.activeController();
          if (endpoint !== null) answer = await r.remote((apiKey, version, req, res, data) => this.opts.connections.send(endpoint, apiKey, version, req, res, data));
        }
      } catch (err) {
        if (!(err instanceof ControllerUnreachableError) && !(err instanceof KafkaError && err.retriable)) throw err;
        last = r.failed(err);
      }
      if (answer !== undefined) {
        if (!r.notController(answer)) return answer;
        last = answer;
      }
      if (this.opts.nowMs() + this.opts.retryBackoffMs >= deadline) return last ?? r.failed(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `no active controller within ${this.opts.timeoutMs} ms`));
      await this.opts.sleep(this.opts.retryBackoffMs);
    }
  }

  registerBroker(request: BrokerRegistrationRequest): Promise<ItemResult<bigint>> {
    return this.route<ItemResult<bigint>>({
      local: (c) => c.registerBroker(request),
      remote: async (send) => {
        const req = BrokerRegistrationRequestCodec.defaults();
        req.brokerId = request.brokerId;
        req.clusterId = this.opts.clusterId;
        req.incarnationId = request.incarnationId;
        req.listeners = request.endpoints.map((e) => ({ name: e.name, host: e.host, port: e.port, securityProtocol: e.securityProtocol }));
        req.rack = request.rack;
        const res = await send(62, 0, BrokerRegistrationRequestCodec, BrokerRegistrationResponse, req);
        return res.errorCode === ErrorCode.NONE ? { errorCode: ErrorCode.NONE, errorMessage: null, value: res.brokerEpoch } : itemError(res.errorCode, null);
      },
      notController: isNotController,
      failed: itemFailure,
    });
  }

  brokerHeartbeat(request: BrokerHeartbeatRequest): Promise<ItemResult<BrokerHeartbeatAnswer>> {
    return this.route<ItemResult<BrokerHeartbeatAnswer>>({
      local: (c) => c.brokerHeartbeat(request),
      remote: async (send) => {
        const req = { ...BrokerHeartbeatRequestCodec.defaults(), ...request, offlineLogDirs: [] };
        const res = await send(63, 0, BrokerHeartbeatRequestCodec, BrokerHeartbeatResponse, req);
        return res.errorCode === ErrorCode.NONE ? { errorCode: ErrorCode.NONE, errorMessage: null, value: { isCaughtUp: res.isCaughtUp, isFenced: res.isFenced, shouldShutDown: res.shouldShutDown } } : itemError(res.errorCode, null);
      },
      notController: isNotController,
      failed: itemFailure,
    });
  }

  createTopics(topics: readonly NewTopic[], validateOnly: boolean, quota?: PartitionMutationQuota): Promise<TopicResult<CreatedTopic>[]> {
    return this.route<TopicResult<CreatedTopic>[]>({
      local: (c) => c.createTopics(topics, validateOnly, quota),
      remote: async (send) => {
        const req = CreateTopicsRequest.defaults();
        req.validateOnly = validateOnly;
        req.timeoutMs = this.opts.timeoutMs;
        req.topics = topics.map((t) => ({ name: t.name, numPartitions: t.numPartitions, replicationFactor: t.replicationFactor, assignments: t.assignments, configs: t.configs }));
        const res = await send(19, 7, CreateTopicsRequest, CreateTopicsResponse, req);
        return res.topics.map((t) => ({
          name: t.name,
          errorCode: t.errorCode,
          errorMessage: t.errorMessage,
          value: t.errorCode !== ErrorCode.NONE ? null : { topicId: t.topicId, partitions: t.numPartitions, replicationFactor: t.replicationFactor, configs: new Map((t.configs ?? []).filter((c) => c.configSource === DYNAMIC_TOPIC_CONFIG && c.value !== null).map((c) => [c.name, c.value!])) },
        }));
      },
      notController: anyNotController,
      failed: (err) => topics.map((t) => ({ name: t.name, ...itemFailure<CreatedTopic>(err) })),
    });
  }

  deleteTopics(topics: readonly TopicToDelete[], quota?: PartitionMutationQuota): Promise<TopicResult[]> {
    return this.route<TopicResult[]>({
      local: (c) => c.deleteTopics(topics, quota),
      remote: async (send) => {
        const req = DeleteTopicsRequest.defaults();
        req.timeoutMs = this.opts.timeoutMs;
        req.topics = topics.map((t) => ({ name: t.name, topicId: t.topicId }));
        const res = await send(20, 6, DeleteTopicsRequest, DeleteTopicsResponse, req);
        // In request order: the answer names each topic as it was asked.
        return topics.map((t, i) => {
          const r = res.responses.find((x) => x.topicId === t.topicId) ?? res.responses[i];
          return { name: t.name, ...(r === undefined ? itemError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer for the topic') : itemError(r.errorCode, r.errorMessage)) };
        });
      },
      notController: anyNotController,
      failed: (err) => topics.map((t) => ({ name: t.name, ...itemFailure(err) })),
    });
  }

  createPartitions(increases: readonly PartitionIncrease[], validateOnly: boolean, quota?: PartitionMutationQuota): Promise<TopicResult[]> {
    return this.route<TopicResult[]>({
      local: (c) => c.createPartitions(increases, validateOnly, quota),
      remote: async (send) => {
        const req = CreatePartitionsRequest.defaults();
        req.validateOnly = validateOnly;
        req.timeoutMs = this.opts.timeoutMs;
        req.topics = increases.map((inc) => ({ name: inc.topic, count: inc.count, assignments: inc.assignments === null ? null : inc.assignments.map((brokerIds) => ({ brokerIds })) }));
        const res = await send(37, 3, CreatePartitionsRequest, CreatePartitionsResponse, req);
        return increases.map((inc, i) => {
          const r = res.results.find((x) => x.name === inc.topic) ?? res.results[i];
          return { name: inc.topic, ...(r === undefined ? itemError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer for the topic') : itemError(r.errorCode, r.errorMessage)) };
        });
      },
      notController: anyNotController,
      failed: (err) => increases.map((inc) => ({ name: inc.topic, ...itemFailure(err) })),
    });
  }

  alterTopicConfigs(topic: string, changes: readonly ConfigChange[], validateOnly: boolean): Promise<ItemResult> {
    return this.alterConfigs(ConfigResourceType.TOPIC, topic, changes, validateOnly, (c) => c.alterTopicConfigs(topic, changes, validateOnly));
  }

  alterBrokerConfigs(resourceName: string, changes: readonly ConfigChange[], validateOnly: boolean): Promise<ItemResult> {
    return this.alterConfigs(ConfigResourceType.BROKER, resourceName, changes, validateOnly, (c) => c.alterBrokerConfigs(resourceName, changes, validateOnly));
  }

  alterGroupConfigs(groupId: string, changes: readonly ConfigChange[], validateOnly: boolean): Promise<ItemResult> {
    return this.alterConfigs(ConfigResourceType.GROUP, groupId, changes, validateOnly, (c) => c.alterGroupConfigs(groupId, changes, validateOnly));
  }

  /** The change the broker side computed, as SET and DELETE operations (the same result there). */
  private alterConfigs(resourceType: number, resourceName: string, changes: readonly ConfigChange[], validateOnly: boolean, local: (c: ControllerChannel) => Promise<ItemResult>): Promise<ItemResult> {
    return this.route<ItemResult>({
      local,
      remote: async (send) => {
        const req = IncrementalAlterConfigsRequest.defaults();
        req.validateOnly = validateOnly;
        req.resources = [{ resourceType, resourceName, configs: changes.map((c) => ({ name: c.name, configOperation: c.value === null ? OP_DELETE : OP_SET, value: c.value })) }];
        const res = await send(44, 1, IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse, req);
        const r = res.responses[0];
        return r === undefined ? itemError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer for the resource') : itemError(r.errorCode, r.errorMessage);
      },
      notController: isNotController,
      failed: itemFailure,
    });
  }

  updateFeatures(updates: readonly FeatureUpdate[], validateOnly: boolean): Promise<ItemResult> {
    return this.route<ItemResult>({
      local: (c) => c.updateFeatures(updates, validateOnly),
      remote: async (send) => {
        const req = UpdateFeaturesRequest.defaults();
        req.validateOnly = validateOnly;
        req.timeoutMs = this.opts.timeoutMs;
        req.featureUpdates = updates.map((u) => ({ feature: u.feature, maxVersionLevel: u.level, allowDowngrade: false, upgradeType: u.upgradeType }));
        const res = await send(57, 1, UpdateFeaturesRequest, UpdateFeaturesResponse, req);
        if (res.errorCode !== ErrorCode.NONE) return itemError(res.errorCode, res.errorMessage);
        const bad = res.results.find((r) => r.errorCode !== ErrorCode.NONE);
        return bad === undefined ? itemError(ErrorCode.NONE, null) : itemError(bad.errorCode, bad.errorMessage);
      },
      notController: isNotController,
      failed: itemFailure,
    });
  }

  createAcls(bindings: readonly AclBinding[]): Promise<ItemResult[]> {
    return this.route<ItemResult[]>({
      local: (c) => c.createAcls(bindings),
      remote: async (send) => {
        const req = CreateAclsRequest.defaults();
        req.creations = bindings.map(toAclCreation);
        const res = await send(30, 3, CreateAclsRequest, CreateAclsResponse, req);
        return bindings.map((_, i) => {
          const r = res.results[i];
          return r === undefined ? itemError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer for the binding') : itemError(r.errorCode, r.errorMessage);
        });
      },
      notController: anyNotController,
      failed: (err) => bindings.map(() => itemFailure(err)),
    });
  }

  deleteAcls(filters: readonly AclBindingFilter[]): Promise<Array<ItemResult & { deleted: AclBinding[] }>> {
    return this.route<Array<ItemResult & { deleted: AclBinding[] }>>({
      local: (c) => c.deleteAcls(filters),
      remote: async (send) => {
        const req = DeleteAclsRequest.defaults();
        req.filters = filters.map(toAclFilterFields);
        const res = await send(31, 3, DeleteAclsRequest, DeleteAclsResponse, req);
        return filters.map((_, i) => {
          const r = res.filterResults[i];
          if (r === undefined) return { ...itemError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer for the filter'), deleted: [] };
          return { ...itemError(r.errorCode, r.errorMessage), deleted: r.matchingAcls.map(fromMatchingAcl) };
        });
      },
      notController: anyNotController,
      failed: (err) => filters.map(() => ({ ...itemFailure(err), deleted: [] })),
    });
  }

  alterUserScramCredentials(deletions: readonly ScramCredentialDeletion[], upsertions: readonly ScramCredentialUpsertion[]): Promise<Array<ItemResult & { user: string }>> {
    const users = [...new Set([...deletions, ...upsertions].map((c) => c.name))];
    return this.route<Array<ItemResult & { user: string }>>({
      local: (c) => c.alterUserScramCredentials(deletions, upsertions),
      remote: async (send) => {
        const res = await send(51, 0, AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse, { deletions: [...deletions], upsertions: [...upsertions] });
        return res.results.map((r) => ({ user: r.user, ...itemError(r.errorCode, r.errorMessage) }));
      },
      notController: anyNotController,
      failed: (err) => users.map((user) => ({ user, ...itemFailure(err) })),
    });
  }

  allocateProducerId(): Promise<ItemResult<bigint>> {
    return this.route<ItemResult<bigint>>({
      local: (c) => c.allocateProducerId(),
      remote: async (send) => {
        const res = await send(67, 0, AllocateProducerIdsRequest, AllocateProducerIdsResponse, { brokerId: this.opts.brokerId, brokerEpoch: -1n });
        return res.errorCode === ErrorCode.NONE ? { errorCode: ErrorCode.NONE, errorMessage: null, value: res.producerIdStart } : itemError(res.errorCode, null);
      },
      notController: isNotController,
      failed: itemFailure,
    });
  }
}

function itemError<T = null>(errorCode: number, errorMessage: string | null): ItemResult<T> {
  return { errorCode, errorMessage, value: null };
}

function itemFailure<T = null>(err: KafkaError): ItemResult<T> {
  return itemError<T>(err.code, err.detail);
}

function isNotController(r: ItemResult<unknown>): boolean {
  return r.errorCode === ErrorCode.NOT_CONTROLLER;
}

function anyNotController(rs: readonly ItemResult<unknown>[]): boolean {
  return rs.some(isNotController);
}
