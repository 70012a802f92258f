// The controller of a single-voter metadata quorum, as the ControllerChannel the broker side
// uses: each request becomes an operation on the serial event queue (event-queue.ts), which
// plans it against the latest image with the pure planner (planner.ts), proposes its records to
// the MetadataLogClient, and answers once they are committed; committed images are published
// to the broker side in commit order.
//
// Partition creations and deletions are charged to the controller mutation quota (KIP-599) that
// the caller passes in, at planning time and in request order; a topic refused by it gets
// THROTTLING_QUOTA_EXCEEDED. The records of one change are committed with one append (one
// fsync), however many topics it touches.
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { ZERO_UUID } from '../protocol/codec/reader.js';
import { applyRecords, MetadataDelta } from '../metadata/delta.js';
import { MetadataImage } from '../metadata/image.js';
import { imageRecords, snapshotTransition } from '../metadata/image-records.js';
import { MetadataRecordType, type MetadataRecord } from '../metadata/records.js';
import { BOOTSTRAP_FEATURES, METADATA_VERSION, type FeatureUpdate } from '../metadata/features.js';
import { MetadataPublication, type MetadataPublisher } from '../metadata/publisher.js';
import {
  UNLIMITED_MUTATIONS,
  type BrokerHeartbeatAnswer,
  type BrokerHeartbeatRequest,
  type BrokerRegistrationRequest,
  type ConfigChange,
  type ControllerChannel,
  type CreatedTopic,
  type ItemResult,
  type NewTopic,
  type PartitionIncrease,
  type PartitionMutationQuota,
  type ScramCredentialDeletion,
  type ScramCredentialUpsertion,
  type TopicResult,
  type TopicToDelete,
} from '../metadata/controller-channel.js';
import { newTopicId } from '../metadata/topic-names.js';
import { ControllerEventQueue, type ControllerOperation } from './event-queue.js';
import type { MetadataLogClient } from './metadata-log-client.js';
import { planScramChanges } from './scram-planner.js';
import { planCreateAcls, planDeleteAcls } from './acl-planner.js';
import type { AclBinding, AclBindingFilter } from '../protocol/acls.js';
import {
  EXCESSIVELY_LARGE_OPERATION,
  planBootstrapFeatures,
  planBootstrapRecords,
  planBrokerConfigs,
  planBrokerHeartbeat,
  planRegisterBroker,
  planGroupConfigs,
  planCreatePartitions,
  planCreateTopics,
  planDeleteTopics,
  planFeatures,
  planProducerIdBlock,
  planTopicConfigs,
  type ChangePlan,
  type PlannerContext,
} from './planner.js';

export interface ControllerOptions {
  nodeId: number;
  /** Brokers that can host replicas (just this node until the cluster work lands). */
  brokerIds: () => number[];
  defaultNumPartitions: () => number;
  defaultReplicationFactor: () => number;
  /** Why a topic config is invalid, or null. */
  topicConfigProblem: (name: string, value: string | null) => string | null;
  /** Record timestamps. */
  nowMs: () => number;
  /** Ids of new topics; a random one by default. */
  newTopicId?: () => string;
  /** The metadata directory's bootstrap.checkpoint records (feature levels, SCRAM credentials of
   * `storage format --add-scram`), committed by the first active controller of a new cluster. */
  bootstrapRecords?: readonly MetadataRecord[];
  /** broker.session.timeout.ms: a registration without a heartbeat for this long has no live session. */
  brokerSessionTimeoutMs?: number;
}

/** Kafka's broker.session.timeout.ms default. */
const DEFAULT_BROKER_SESSION_TIMEOUT_MS = 9000;

/** What the active controller knows of each broker's session, in memory only (as Kafka's
 * BrokerHeartbeatManager: a new controller starts without sessions). */
interface BrokerSession {
  epoch: bigint;
  lastContactMs: number;
  /** The committed metadata offset when the registration was answered: caught up at or above it. */
  registeredAtOffset: bigint;
}

const THROTTLED = 'The throttling quota has been exceeded.';

export class MetadataController implements ControllerChannel {
  private readonly publication = new MetadataPublication();
  private queue: ControllerEventQueue | null = null;
  /** Producer ids [next, end) of the last reserved block not yet handed out (pending state:
   * the block's record may not be committed yet; a rollback forgets the block). */
  private producerIds = { next: 0n, end: 0n };
  private readonly sessions = new Map<number, BrokerSession>();
  /** A quorum's controller (the log client has listen()): active between activate and deactivate. */
  private quorum = false;

  constructor(
    private readonly log: MetadataLogClient,
    private readonly opts: ControllerOptions,
  ) {}

  /** The latest committed image. */
  get image(): MetadataImage {
    return this.publication.image;
  }

  /** Where committed images are published, in commit order. */
  get publisher(): MetadataPublisher {
    return this.publication;
  }

  /** The epoch of the finalized feature levels: the offset of the last committed metadata record. */
  get finalizedFeaturesEpoch(): bigint {
    return this.publication.offset;
  }

  /**
   * Replays the whole metadata log into the image (start-up). A transaction left unfinished at
   * the log's end (a crash mid-write) is not applied. A log without a metadata.version (a new
   * node, or one from before feature levels were recorded) gets the bootstrap levels first, as
   * `kafka-storage format` writes them for a new Kafka cluster.
   */
  async load(): Promise<{ unfinishedTransaction: boolean }> {
    if (this.queue !== null || this.quorum) throw new Error('MetadataController.load: already loaded');
    if (this.log.listen !== undefined) {
      this.quorum = true;
      this.log.listen({
        committed: (records, offset, snapshot) => this.applyCommitted(records, offset, snapshot),
        activate: () => this.activate(),
        deactivate: () => {
          this.queue = null;
        },
      });
      return { unfinishedTransaction: false };
    }
    const delta = new MetadataDelta(this.publication.image);
    const end = this.log.replay((record) => delta.replay(record));
    this.publication.publish(delta.records, delta.apply(), end.lastOffset);
    this.queue = new ControllerEventQueue(
      {
        log: this.log,
        nowMs: this.opts.nowMs,
        onCommit: (records, image, offset) => this.publication.publish(records, image, offset),
        onRollback: () => {
          this.producerIds = { next: 0n, end: 0n };
        },
      },
      this.publication.image,
      this.publication.offset,
    );
    const result = await this.bootstrapFeatures();
    if (result.errorCode !== ErrorCode.NONE) throw new KafkaError(result.errorCode, `could not record the bootstrap feature levels: ${result.errorMessage}`);
    return { unfinishedTransaction: end.unfinishedTransaction };
  }

  /** Whether this controller may plan changes now (a single voter's always may, once loaded). */
  get active(): boolean {
    return this.queue !== null;
  }

  /** The bootstrap feature levels, when the committed metadata has no metadata.version yet. */
  private bootstrapFeatures(): Promise<ItemResult> {
    if (this.image.finalizedFeatures.has(METADATA_VERSION)) return Promise.resolve(ok(null));
    return this.run<ItemResult>((image) => (image.finalizedFeatures.has(METADATA_VERSION) ? { records: [], answer: ok(null) } : { records: this.opts.bootstrapRecords === undefined ? planBootstrapFeatures(image, BOOTSTRAP_FEATURES) : planBootstrapRecords(image, BOOTSTRAP_FEATURES, this.opts.bootstrapRecords), answer: ok(null) }), failed);
  }

  /** A quorum's committed change (anyone's): the one place a quorum controller publishes. */
  private applyCommitted(records: readonly MetadataRecord[], offset: bigint, snapshot: boolean): void {
    const current = this.publication.image;
    // A snapshot is the whole state: published as the change from the current image to it, so
    // subscribers see the removals (deleted topics, ACLs, ...) that the log below it held.
    const changes = snapshot ? snapshotTransition(current, applyRecords(MetadataImage.EMPTY, records)) : records;
    const delta = new MetadataDelta(current);
    for (const r of changes) delta.replay(r);
    this.publication.publish(delta.records, delta.apply(), offset);
  }

  /** The committed image as snapshot records, and the offset of its last record. */
  snapshotRecords(): { records: MetadataRecord[]; offset: bigint } {
    return { records: imageRecords(this.publication.image), offset: this.publication.offset };
  }

  /**
   * A quorum's controller becomes active: a fresh queue on the committed image (what an earlier
   * activity had pending is gone), no broker sessions (as Kafka's new active controller, which
   * gives every broker a session timeout to heartbeat), and the bootstrap levels of a new cluster.
   */
  private activate(): void {
    this.producerIds = { next: 0n, end: 0n };
    this.sessions.clear();
    const nowMs = this.opts.nowMs();
    for (const b of this.image.liveBrokers()) this.sessions.set(b.brokerId, { epoch: b.brokerEpoch, lastContactMs: nowMs, registeredAtOffset: -1n });
    this.queue = new ControllerEventQueue(
      {
        log: this.log,
        nowMs: this.opts.nowMs,
        // Published from applyCommitted already, in log order, before the proposal resolves.
        onCommit: () => {},
        onRollback: () => {
          this.producerIds = { next: 0n, end: 0n };
        },
      },
      this.publication.image,
      this.publication.offset,
    );
    void this.bootstrapFeatures();
  }

  /**
   * Creates topics (or only validates them), in one append. Each topic gets its own result with
   * Kafka's code and message; a change of more than MAX_RECORDS_PER_USER_OP records is refused
   * as a whole (POLICY_VIOLATION), before the quota is charged. validateOnly charges nothing.
   */
  createTopics(topics: readonly NewTopic[], validateOnly: boolean, quota: PartitionMutationQuota = UNLIMITED_MUTATIONS): Promise<TopicResult<CreatedTopic>[]> {
    const names = topics.map((t) => t.name);
    return this.run(
      (image) => {
        const plan = planCreateTopics(image, topics, this.context());
        return settle(plan, names, validateOnly, quota, (item) => createdTopic(item.records, validateOnly));
      },
      (err) => names.map((name) => failure(name, err)),
    );
  }

  /** Deletes topics in one append; internal topics are refused, each topic is charged its
   * partitions to the quota. */
  deleteTopics(topics: readonly TopicToDelete[], quota: PartitionMutationQuota = UNLIMITED_MUTATIONS): Promise<TopicResult[]> {
    const names = topics.map((t) => t.name);
    return this.run(
      (image) => settle(planDeleteTopics(image, topics.map((t) => t.topicId)), names, false, quota, () => null),
      (err) => names.map((name) => failure(name, err)),
    );
  }

  /** Grows topics, each to its `count` partitions, with optional manual assignments for the new
   * ones, in one append. Limits and quota as in createTopics. */
  createPartitions(increases: readonly PartitionIncrease[], validateOnly: boolean, quota: PartitionMutationQuota = UNLIMITED_MUTATIONS): Promise<TopicResult[]> {
    const names = increases.map((inc) => inc.topic);
    return this.run(
      (image) => settle(planCreatePartitions(image, increases, this.context()), names, validateOnly, quota, () => null),
      (err) => names.map((name) => failure(name, err)),
    );
  }

  alterTopicConfigs(topic: string, changes: readonly ConfigChange[], validateOnly: boolean): Promise<ItemResult> {
    return this.runItem((image) => {
      const records = planTopicConfigs(image, topic, changes, this.context());
      return validateOnly ? [] : records;
    });
  }

  alterBrokerConfigs(resourceName: string, changes: readonly ConfigChange[], validateOnly: boolean): Promise<ItemResult> {
    return this.runItem(() => (validateOnly ? [] : planBrokerConfigs(resourceName, changes)));
  }

  alterGroupConfigs(groupId: string, changes: readonly ConfigChange[], validateOnly: boolean): Promise<ItemResult> {
    return this.runItem(() => (validateOnly ? [] : planGroupConfigs(groupId, changes)));
  }

  /** UpdateFeatures: the new levels together, or none of them (INVALID_UPDATE_VERSION for the
   * first update that is not allowed). */
  updateFeatures(updates: readonly FeatureUpdate[], validateOnly: boolean): Promise<ItemResult> {
    return this.runItem((image) => {
      const records = planFeatures(image, updates, this.context());
      return validateOnly ? [] : records;
    });
  }

  async registerBroker(request: BrokerRegistrationRequest): Promise<ItemResult<bigint>> {
    const result = await this.run<ItemResult<bigint>>((image) => {
      try {
        // A registration in controlled shutdown gave its session up: a new incarnation may
        // replace it at once (a clean restart).
        const plan = planRegisterBroker(image, request, (id, epoch) => image.brokers.get(id)?.inControlledShutdown !== true && this.hasLiveSession(id, epoch));
        return { records: plan.records, answer: ok(plan.brokerEpoch) };
      } catch (err) {
        if (!(err instanceof KafkaError)) throw err;
        return { records: [], answer: failed(err) };
      }
    }, failed);
    if (result.value !== null) this.sessions.set(request.brokerId, { epoch: result.value, lastContactMs: this.opts.nowMs(), registeredAtOffset: this.publication.offset });
    return result;
  }

  brokerHeartbeat(request: BrokerHeartbeatRequest): Promise<ItemResult<BrokerHeartbeatAnswer>> {
    return this.run<ItemResult<BrokerHeartbeatAnswer>>((image) => {
      let session = this.sessions.get(request.brokerId);
      // A registered broker this controller has no session for (fenced when its session ran
      // out, or registered under an earlier active controller): a new one, caught up from here.
      if (session === undefined && this.quorum && image.brokers.get(request.brokerId)?.brokerEpoch === request.brokerEpoch) {
        session = { epoch: request.brokerEpoch, lastContactMs: this.opts.nowMs(), registeredAtOffset: this.publication.offset };
        this.sessions.set(request.brokerId, session);
      }
      try {
        const caughtUp = session !== undefined && session.epoch === request.brokerEpoch && request.currentMetadataOffset >= session.registeredAtOffset;
        const plan = planBrokerHeartbeat(image, request, caughtUp);
        if (session !== undefined && session.epoch === request.brokerEpoch) session.lastContactMs = this.opts.nowMs();
        return { records: plan.records, answer: ok(plan.answer) };
      } catch (err) {
        if (!(err instanceof KafkaError)) throw err;
        return { records: [], answer: failed(err) };
      }
    }, failed);
  }

  /**
   * Fences the unfenced brokers whose session ran out (no heartbeat for broker.session.timeout.ms),
   * as Kafka's active controller does from its periodic task; the count fenced. Refused by a
   * controller that is not active. A single voter's broker heartbeats only at start-up: this is
   * for a quorum's controller.
   */
  fenceExpiredBrokers(): Promise<ItemResult<number>> {
    return this.run<ItemResult<number>>((image) => {
      const records: MetadataRecord[] = [];
      for (const b of image.liveBrokers()) {
        if (this.hasLiveSession(b.brokerId, b.brokerEpoch)) continue;
        records.push({ type: MetadataRecordType.FenceBrokerRecord, version: 0, data: { id: b.brokerId, epoch: b.brokerEpoch } });
        this.sessions.delete(b.brokerId);
      }
      return { records, answer: ok(records.length) };
    }, failed);
  }

  private hasLiveSession(brokerId: number, epoch: bigint): boolean {
    const s = this.sessions.get(brokerId);
    return s !== undefined && s.epoch === epoch && this.opts.nowMs() - s.lastContactMs < (this.opts.brokerSessionTimeoutMs ?? DEFAULT_BROKER_SESSION_TIMEOUT_MS);
  }

  /** A producer id no one has had before, surviving restarts (ids are reserved in blocks of
   * 1000 by a ProducerIdsRecord; an id is answered only once its block is committed). */
  allocateProducerId(): Promise<ItemResult<bigint>> {
    return this.run<ItemResult<bigint>>((image) => {
      if (this.producerIds.next < this.producerIds.end) return { records: [], answer: ok(this.producerIds.next++) };
      const block = planProducerIdBlock(image, this.context());
      this.producerIds = { next: block.start + 1n, end: block.end };
      return { records: block.records, answer: ok(block.start) };
    }, failed);
  }

  /** CreateAcls: the bindings that pass validation are written together, in one append. */
  createAcls(bindings: readonly AclBinding[]): Promise<ItemResult[]> {
    return this.run<ItemResult[]>(
      (image) => {
        const plan = planCreateAcls(image, bindings, this.context().newTopicId);
        return { records: plan.records, answer: plan.results };
      },
      (err) => bindings.map(() => failed(err)),
    );
  }

  /** DeleteAcls: what every filter matches goes in one append; too many refuses them all. */
  deleteAcls(filters: readonly AclBindingFilter[]): Promise<Array<ItemResult & { deleted: AclBinding[] }>> {
    return this.run<Array<ItemResult & { deleted: AclBinding[] }>>(
      (image) => {
        try {
          const plan = planDeleteAcls(image, filters);
          return { records: plan.records, answer: plan.results.map((r) => ({ ...r, value: null })) };
        } catch (err) {
          if (!(err instanceof KafkaError)) throw err;
          return { records: [], answer: filters.map(() => ({ ...failed(err), deleted: [] })) };
        }
      },
      (err) => filters.map(() => ({ ...failed(err), deleted: [] })),
    );
  }

  /** AlterUserScramCredentials: the users that pass validation change together, in one append. */
  alterUserScramCredentials(deletions: readonly ScramCredentialDeletion[], upsertions: readonly ScramCredentialUpsertion[]): Promise<Array<ItemResult & { user: string }>> {
    return this.run<Array<ItemResult & { user: string }>>(
      (image) => {
        const plan = planScramChanges(image, deletions, upsertions);
        return { records: plan.records, answer: plan.results.map((r) => ({ ...r, value: null })) };
      },
      (err) => {
        const users = [...new Set([...deletions, ...upsertions].map((c) => c.name))];
        return users.map((user) => ({ user, ...failed(err) }));
      },
    );
  }

  private run<T>(plan: ControllerOperation<T>['plan'], onFailure: ControllerOperation<T>['failed']): Promise<T> {
    if (this.queue === null) {
      if (!this.quorum) throw new Error('MetadataController: load() first');
      return Promise.resolve(onFailure(new KafkaError(ErrorCode.NOT_CONTROLLER, `node ${this.opts.nodeId} is not the active controller`)));
    }
    return this.queue.submit({ plan, failed: onFailure });
  }

  /** An operation of one item: `plan` returns its records or throws KafkaError. */
  private runItem(plan: (image: MetadataImage) => MetadataRecord[]): Promise<ItemResult> {
    return this.run<ItemResult>((image) => {
      try {
        return { records: plan(image), answer: ok(null) };
      } catch (err) {
        if (!(err instanceof KafkaError)) throw err;
        return { records: [], answer: failed(err) };
      }
    }, failed);
  }

  /** The planner's inputs besides image and request, read once per plan. */
  private context(): PlannerContext {
    return {
      nodeId: this.opts.nodeId,
      brokerIds: this.opts.brokerIds(),
      defaultNumPartitions: this.opts.defaultNumPartitions,
      defaultReplicationFactor: this.opts.defaultReplicationFactor,
      topicConfigProblem: this.opts.topicConfigProblem,
      newTopicId: this.opts.newTopicId ?? newTopicId,
    };
  }
}

/**
 * A multi-topic plan as records and results: the quota is asked per planned topic in request
 * order (not for validateOnly, which writes nothing), and a refused topic writes nothing.
 */
function settle<T>(
  plan: ChangePlan,
  names: readonly string[],
  validateOnly: boolean,
  quota: PartitionMutationQuota,
  valueOf: (item: { records: MetadataRecord[] }) => T,
): { records: MetadataRecord[]; answer: TopicResult<T>[] } {
  if ('tooLarge' in plan) {
    return { records: [], answer: names.map((name) => ({ name, errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: EXCESSIVELY_LARGE_OPERATION, value: null })) };
  }
  const records: MetadataRecord[] = [];
  const answer = plan.items.map((item, i): TopicResult<T> => {
    const name = names[i]!;
    if (item instanceof KafkaError) return failure(name, item);
    if (!validateOnly && !quota.tryRecord(item.partitionMutations)) return { name, errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED, errorMessage: THROTTLED, value: null };
    if (!validateOnly) for (const r of item.records) records.push(r);
    return { name, errorCode: ErrorCode.NONE, errorMessage: null, value: valueOf(item) };
  });
  return { records, answer };
}

/** What CreateTopics answers about a planned topic. */
function createdTopic(records: readonly MetadataRecord[], validateOnly: boolean): CreatedTopic {
  let topicId = ZERO_UUID;
  let partitions = 0;
  let replicationFactor = 0;
  const configs = new Map<string, string>();
  for (const r of records) {
    if (r.type === MetadataRecordType.TopicRecord) topicId = r.data.topicId;
    else if (r.type === MetadataRecordType.PartitionRecord) {
      if (partitions === 0) replicationFactor = r.data.replicas.length;
      partitions++;
    } else if (r.type === MetadataRecordType.ConfigRecord && r.data.value !== null) configs.set(r.data.name, r.data.value);
  }
  return { topicId: validateOnly ? ZERO_UUID : topicId, partitions, replicationFactor, configs };
}

function ok<T>(value: T): ItemResult<T> {
  return { errorCode: ErrorCode.NONE, errorMessage: null, value };
}

function failed<T>(err: KafkaError): ItemResult<T> {
  return { errorCode: err.code, errorMessage: err.detail, value: null };
}

function failure<T>(name: string, err: KafkaError): TopicResult<T> {
  return { name, ...failed<T>(err) };
}
