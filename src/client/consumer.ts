// The consumer: manual assignment or group subscription, with a fetch pipeline. One fetch loop
// per leader broker keeps a Fetch in flight while the application processes what the previous
// ones returned; each partition has at most MAX_QUEUED_FETCHES fetched-but-unconsumed responses
// queued, which bounds memory to about two fetches per partition. A response is only scanned
// for its batch headers (to know where the next Fetch starts) before the next Fetch is sent;
// records are decoded when the application takes them, so decoding overlaps the broker's work
// on the next Fetch instead of delaying it. seek() bumps the partition's epoch so results of
// fetches sent before it are dropped.
//
// Positions: `fetchOffset` is where the next Fetch starts (ahead of the application);
// `position` is the offset after the last record handed to the application, which is what
// commits use (Kafka's semantics: a record returned by poll counts as consumed).
import { ErrorCode } from '../protocol/errors.js';
import { ATTR_CONTROL, ATTR_TRANSACTIONAL } from '../protocol/records/batch-header.js';
import { ControlRecordType, decodeControlRecordKey, decodeRecordBatch, iterateBatches, type RecordHeader } from '../protocol/records/record-batch.js';
import { FetchRequest, type FetchRequestFetchTopic } from '../protocol/messages/FetchRequest.js';
import { FetchResponse, type FetchResponsePartitionData } from '../protocol/messages/FetchResponse.js';
import { ListOffsetsRequest } from '../protocol/messages/ListOffsetsRequest.js';
import { ListOffsetsResponse } from '../protocol/messages/ListOffsetsResponse.js';
import type { ConsumerGroupMetadata } from './transactions.js';
import { commitOffsets, fetchCommittedOffsets, offsetSpecTimestamp, type TopicPartition } from './admin.js';
import { ASSIGNORS, type Assignor } from './assignors.js';
import { Cluster, isMetadataError, type ClientOptions } from './cluster.js';
import { Coordinators } from './coordinator.js';
import { AbortError, ClientClosedError, KafkaClientError, TopicAuthorizationError } from './errors.js';
import { GroupMembership } from './group.js';
import { decodeBatchInto } from './record-decoder.js';
import { sleep } from './retry.js';

export type AutoOffsetReset = 'earliest' | 'latest' | 'none';

export interface RebalanceListener {
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

export interface ConsumerOptions extends ClientOptions {
  /** group.id: needed for subscribe() and commits. */
  groupId?: string;
  groupInstanceId?: string;
  /** auto.offset.reset; default 'latest'. */
  autoOffsetReset?: AutoOffsetReset;
  /** isolation.level; default 'read_uncommitted'. */
  isolationLevel?: 'read_uncommitted' | 'read_committed';
  /** fetch.max.wait.ms; default 500. */
  maxWaitMs?: number;
  /** fetch.min.bytes; default 1. */
  minBytes?: number;
  /** fetch.max.bytes; default 52428800. */
  maxBytes?: number;
  /** max.partition.fetch.bytes; default 1048576. */
  maxPartitionBytes?: number;
  /** enable.auto.commit; default true when a groupId is set. */
  autoCommit?: boolean;
  /** auto.commit.interval.ms; default 5000. */
  autoCommitIntervalMs?: number;
  /** session.timeout.ms; default 45000. */
  sessionTimeoutMs?: number;
  /** max.poll.interval.ms (the rebalance timeout); default 300000. */
  rebalanceTimeoutMs?: number;
  /** heartbeat.interval.ms; default 3000. */
  heartbeatIntervalMs?: number;
  /** partition.assignment.strategy by name; default ['range', 'cooperative-sticky'] as Kafka. */
  assignors?: readonly (string | Assignor)[];
  rebalanceListener?: RebalanceListener;
}

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface ConsumerBatch {
  topic: string;
  partition: number;
  records: ConsumerRecord[];
  highWatermark: bigint;
  /** The offset after this batch (the partition's position once it is consumed). */
  nextOffset: bigint;
}

interface PartitionState {
  topic: string;
  partition: number;
  /** Next offset to fetch; null while the position must be looked up. */
  fetchOffset: bigint | null;
  /** Offset after the last record returned to the application. */
  position: bigint | null;
  paused: boolean;
  /** Bumped by seek/assignment changes: fetch results from an older epoch are dropped. */
  epoch: number;
  inFetch: boolean;
  /** Fetched responses queued and not yet consumed (at most MAX_QUEUED_FETCHES). */
  queued: number;
  highWatermark: bigint;
  /** Reset requested explicitly by seek to earliest/latest. */
  resetTo: 'earliest' | 'latest' | null;
  committedPosition: bigint | null;
}

/** A fetched partition response, decoded when the application takes it. */
interface QueuedBatch {
  state: PartitionState;
  epoch: number;
  /** The Fetch's start offset: records before it are skipped. */
  fetchOffset: bigint;
  /** The offset after the last batch of `records`. */
  nextOffset: bigint;
  records: Buffer;
  abortedTransactions: FetchResponsePartitionData['abortedTransactions'];
  highWatermark: bigint;
}

// Fetched-but-unconsumed responses per partition: two let the next Fetch go out while the
// application decodes and processes the previous one.
const MAX_QUEUED_FETCHES = 2;

const READ_COMMITTED = 1;

export class Consumer implements AsyncIterable<ConsumerBatch> {
  readonly cluster: Cluster;
  private readonly coordinators: Coordinators;
  private readonly opts: ConsumerOptions;
  private readonly partitions = new Map<string, PartitionState>();
  private readonly ready: QueuedBatch[] = [];
  private readyWaiters: (() => void)[] = [];
  private notifyScheduled = false;
  private readonly fetchers = new Map<number, Promise<void>>();
  private fetcherWake: (() => void)[] = [];
  private resetting: Promise<void> | null = null;
  private subscription: string[] | null = null;
  private membership: GroupMembership | null = null;
  private autoCommitTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly isolation: number;
  private readonly autoCommit: boolean;
  /** Errors from background fetches, surfaced on the next poll. */
  private pendingError: Error | null = null;
  private readonly assignors: Assignor[];

  constructor(opts: ConsumerOptions) {
    this.opts = opts;
    this.cluster = new Cluster(opts);
    this.coordinators = new Coordinators(this.cluster);
    this.isolation = opts.isolationLevel === 'read_committed' ? READ_COMMITTED : 0;
    this.autoCommit = opts.groupId !== undefined && (opts.autoCommit ?? true);
    this.assignors = (opts.assignors ?? ['range', 'cooperative-sticky']).map((a) => {
      if (typeof a !== 'string') return a;
      const found = ASSIGNORS[a];
      if (found === undefined) throw new Error(`unknown assignor '${a}' (range, cooperative-sticky)`);
      return found;
    });
  }

  private key(topic: string, partition: number): string {
    return `${topic}\0${partition}`;
  }

  /** Partitions currently assigned (manually or by the group). */
  assignment(): TopicPartition[] {
    return [...this.partitions.values()].map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  /** Assigns partitions manually (no group membership); replaces any previous assignment. */
  assign(partitions: readonly TopicPartition[]): void {
    this.checkOpen();
    if (this.subscription !== null) throw new Error('assign() cannot be used together with subscribe()');
    const wanted = new Set(partitions.map((tp) => this.key(tp.topic, tp.partition)));
    for (const [k, s] of this.partitions) if (!wanted.has(k)) this.removePartition(k, s);
    for (const tp of partitions) this.addPartition(tp);
    this.kick();
  }

  private addPartition(tp: TopicPartition): PartitionState {
    const k = this.key(tp.topic, tp.partition);
    let s = this.partitions.get(k);
    if (s === undefined) {
      s = {
        topic: tp.topic,
        partition: tp.partition,
        fetchOffset: null,
        position: null,
        paused: false,
        epoch: 0,
        inFetch: false,
        queued: 0,
        highWatermark: -1n,
        resetTo: null,
        committedPosition: null,
      };
      this.partitions.set(k, s);
    }
    return s;
  }

  private removePartition(k: string, s: PartitionState): void {
    s.epoch++;
    this.partitions.delete(k);
  }

  /** Subscribes to topics through the group coordinator (needs groupId). */
  subscribe(topics: readonly string[]): void {
    this.checkOpen();
    const groupId = this.opts.groupId;
    if (groupId === undefined) throw new Error('subscribe() needs a groupId');
    if (this.subscription === null && this.partitions.size > 0) throw new Error('subscribe() cannot be used together with assign()');
    this.subscription = [...new Set(topics)];
    const subscribed = this.subscription;
    void this.cluster.refreshMetadata(subscribed).then(() => this.surfaceRefusedTopics(subscribed), () => undefined);
    if (this.membership === null) {
      this.membership = new GroupMembership(
        this.cluster,
        this.coordinators,
        {
          groupId,
          groupInstanceId: this.opts.groupInstanceId ?? null,
          sessionTimeoutMs: this.opts.sessionTimeoutMs ?? 45_000,
          rebalanceTimeoutMs: this.opts.rebalanceTimeoutMs ?? 300_000,
          heartbeatIntervalMs: this.opts.heartbeatIntervalMs ?? 3000,
          assignors: this.assignors,
        },
        {
          topics: () => this.subscription ?? [],
          owned: () => this.assignment(),
          beforeJoin: (cooperative) => this.beforeJoin(cooperative),
          onAssignment: (assigned, cooperative) => this.onAssignment(assigned, cooperative),
          onLost: () => this.onLost(),
        },
      );
      this.membership.start();
    } else {
      this.membership.requestRejoin();
    }
    this.startAutoCommit();
  }

  private async beforeJoin(cooperative: boolean): Promise<void> {
    if (cooperative) return;
    const owned = this.assignment();
    if (owned.length === 0) return;
    if (this.autoCommit) await this.commitSync().catch(() => undefined);
    await this.opts.rebalanceListener?.onPartitionsRevoked?.(owned);
    for (const [k, s] of this.partitions) this.removePartition(k, s);
  }

  private async onAssignment(assigned: TopicPartition[], cooperative: boolean): Promise<void> {
    const wanted = new Set(assigned.map((tp) => this.key(tp.topic, tp.partition)));
    const revoked = [...this.partitions.values()].filter((s) => !wanted.has(this.key(s.topic, s.partition)));
    const added = assigned.filter((tp) => !this.partitions.has(this.key(tp.topic, tp.partition)));
    if (revoked.length > 0) {
      const tps = revoked.map((s) => ({ topic: s.topic, partition: s.partition }));
      if (this.autoCommit) await this.commitSync(undefined, tps).catch(() => undefined);
      await this.opts.rebalanceListener?.onPartitionsRevoked?.(tps);
      for (const s of revoked) this.removePartition(this.key(s.topic, s.partition), s);
    }
    for (const tp of added) this.addPartition(tp);
    if (added.length > 0) await this.opts.rebalanceListener?.onPartitionsAssigned?.(added);
    // Cooperative: partitions given up must be released before others may receive them.
    if (cooperative && revoked.length > 0) this.membership?.requestRejoin();
    this.kick();
  }

  private async onLost(): Promise<void> {
    const lost = this.assignment();
    for (const [k, s] of this.partitions) this.removePartition(k, s);
    if (lost.length > 0) {
      const l = this.opts.rebalanceListener;
      await (l?.onPartitionsLost ?? l?.onPartitionsRevoked)?.call(l, lost);
    }
  }

  /** Moves the next fetch position; 'earliest'/'latest' are looked up with ListOffsets. */
  seek(tp: TopicPartition, offset: bigint | 'earliest' | 'latest'): void {
    this.checkOpen();
    const s = this.partitions.get(this.key(tp.topic, tp.partition));
    if (s === undefined) throw new Error(`${tp.topic}-${tp.partition} is not assigned`);
    s.epoch++;
    s.queued = 0;
    if (typeof offset === 'bigint') {
      s.fetchOffset = offset;
      s.position = offset;
      s.resetTo = null;
    } else {
      s.fetchOffset = null;
      s.position = null;
      s.resetTo = offset;
    }
    this.kick();
  }

  pause(tps: readonly TopicPartition[]): void {
    for (const tp of tps) {
      const s = this.partitions.get(this.key(tp.topic, tp.partition));
      if (s === undefined) continue;
      s.paused = true;
    }
  }

  resume(tps: readonly TopicPartition[]): void {
    for (const tp of tps) {
      const s = this.partitions.get(this.key(tp.topic, tp.partition));
      if (s !== undefined) s.paused = false;
    }
    this.kick();
  }

  paused(): TopicPartition[] {
    return [...this.partitions.values()].filter((s) => s.paused).map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  /** The offset of the next record the application will get (null until known). */
  position(tp: TopicPartition): bigint | null {
    return this.partitions.get(this.key(tp.topic, tp.partition))?.position ?? null;
  }

  private checkOpen(): void {
    if (this.closed) throw new ClientClosedError('the consumer is closed');
  }

  /** Wakes fetch loops and starts missing ones. */
  private kick(): void {
    const wake = this.fetcherWake;
    this.fetcherWake = [];
    for (const w of wake) w();
    if (this.closed) return;
    if ([...this.partitions.values()].some((s) => s.fetchOffset === null)) void this.resetPositions();
    const leaders = new Set<number>();
    let unknown = false;
    for (const s of this.partitions.values()) {
      const leader = this.cluster.cachedTopic(s.topic)?.partitions[s.partition]?.leader ?? -1;
      if (leader >= 0) leaders.add(leader);
      else unknown = true;
    }
    for (const node of leaders) {
      if (!this.fetchers.has(node)) {
        const loop = this.fetchLoop(node).finally(() => this.fetchers.delete(node));
        this.fetchers.set(node, loop);
      }
    }
    if (unknown) {
      const topics = [...new Set([...this.partitions.values()].map((s) => s.topic))];
      void this.cluster
        .refreshMetadata(topics)
        .catch(() => sleep(this.cluster.backoff(1)))
        .then(() => {
          // Refused topics are reported to poll(); the lookups go on, as ACLs may change.
          this.surfaceRefusedTopics(topics);
          if ([...this.partitions.values()].some((s) => (this.cluster.cachedTopic(s.topic)?.partitions[s.partition]?.leader ?? -1) >= 0)) this.kick();
          else if (!this.closed && this.partitions.size > 0) setTimeout(() => this.kick(), this.cluster.backoff(2)).unref();
        });
    }
  }

  /** Looks up positions of partitions that have none: committed offset, else auto.offset.reset. */
  private resetPositions(): Promise<void> {
    if (this.resetting !== null) return this.resetting;
    this.resetting = (async () => {
      for (let attempt = 0; !this.closed; attempt++) {
        const need = [...this.partitions.values()].filter((s) => s.fetchOffset === null);
        if (need.length === 0) return;
        try {
          await this.resetOnce(need);
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          if (!(e instanceof KafkaClientError && e.retriable) && !(e instanceof ClientClosedError)) {
            this.surface(e);
            return;
          }
          await sleep(this.cluster.backoff(attempt)).catch(() => undefined);
          if (e instanceof KafkaClientError && isMetadataError(e.code)) await this.cluster.refreshMetadata().catch(() => undefined);
        }
      }
    })().finally(() => {
      this.resetting = null;
      this.kick();
    });
    return this.resetting;
  }

  private async resetOnce(need: PartitionState[]): Promise<void> {
    const epochs = new Map(need.map((s) => [s, s.epoch]));
    // Committed offsets first (groups), unless the application asked for earliest/latest.
    const groupId = this.opts.groupId;
    const lookup: { s: PartitionState; spec: 'earliest' | 'latest' }[] = [];
    let committed = new Map<string, bigint>();
    if (groupId !== undefined) {
      const asked = need.filter((s) => s.resetTo === null).map((s) => ({ topic: s.topic, partition: s.partition }));
      if (asked.length > 0) {
        const offsets = await fetchCommittedOffsets(this.cluster, this.coordinators, groupId, asked, { requireStable: this.isolation === READ_COMMITTED });
        committed = new Map(offsets.filter((o) => o.offset >= 0n).map((o) => [this.key(o.topic, o.partition), o.offset]));
      }
    }
    for (const s of need) {
      const c = s.resetTo === null ? committed.get(this.key(s.topic, s.partition)) : undefined;
      if (c !== undefined) {
        if (s.epoch === epochs.get(s)) {
          s.fetchOffset = c;
          s.position = c;
          s.committedPosition = c;
        }
        continue;
      }
      const spec = s.resetTo ?? this.opts.autoOffsetReset ?? 'latest';
      if (spec === 'none') {
        throw new KafkaClientError(ErrorCode.OFFSET_OUT_OF_RANGE, 'no committed offset and auto.offset.reset is none', { where: `${s.topic}-${s.partition}` });
      }
      lookup.push({ s, spec });
    }
    if (lookup.length === 0) return;
    const byNode = new Map<number, typeof lookup>();
    for (const l of lookup) {
      const leader = await this.cluster.leaderFor(l.s.topic, l.s.partition);
      let list = byNode.get(leader);
      if (list === undefined) byNode.set(leader, (list = []));
      list.push(l);
    }
    await Promise.all(
      [...byNode].map(async ([node, items]) => {
        const res = await this.cluster.send(node, { request: ListOffsetsRequest, response: ListOffsetsResponse }, (v) => {
          const req = ListOffsetsRequest.defaults();
          req.replicaId = -1;
          if (v >= 2) req.isolationLevel = this.isolation;
          const byTopic = new Map<string, { partitionIndex: number; currentLeaderEpoch: number; timestamp: bigint; maxNumOffsets: number }[]>();
          for (const it of items) {
            let list = byTopic.get(it.s.topic);
            if (list === undefined) byTopic.set(it.s.topic, (list = []));
            const currentLeaderEpoch = v >= 4 ? this.cluster.cachedLeaderEpoch(it.s.topic, it.s.partition) : -1;
            list.push({ partitionIndex: it.s.partition, currentLeaderEpoch, timestamp: offsetSpecTimestamp(it.spec), maxNumOffsets: 1 });
          }
          req.topics = [...byTopic].map(([name, partitions]) => ({ name, partitions }));
          return req;
        });
        for (const t of res.topics) {
          for (const p of t.partitions) {
            const s = this.partitions.get(this.key(t.name, p.partitionIndex));
            if (s === undefined) continue;
            if (p.errorCode !== ErrorCode.NONE) throw new KafkaClientError(p.errorCode, undefined, { where: `ListOffsets ${t.name}-${p.partitionIndex}` });
            if (s.epoch !== epochs.get(s) && epochs.has(s)) continue;
            const offset = p.oldStyleOffsets.length > 0 ? p.oldStyleOffsets[0]! : p.offset;
            s.fetchOffset = offset;
            s.position = offset;
            s.resetTo = null;
          }
        }
      }),
    );
  }

  /**
   * Surfaces, for the next poll(), the topics of `topics` the broker's Metadata refused: as Kafka's
   * consumer, one TopicAuthorizationError naming every topic not authorized, else the first other
   * lasting topic error.
   */
  private surfaceRefusedTopics(topics: readonly string[]): void {
    const refused = topics.map((t) => this.cluster.topicError(t)).filter((e) => e !== null);
    if (refused.length === 0) return;
    const unauthorized = refused.flatMap((e) => (e instanceof TopicAuthorizationError ? e.unauthorizedTopics : []));
    this.surface(unauthorized.length > 0 ? new TopicAuthorizationError(unauthorized) : refused[0]!);
  }

  private surface(err: Error): void {
    this.pendingError ??= err;
    this.notifyReady();
  }

  private notifyReady(): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  /** Partitions this node should fetch now. */
  private fetchable(node: number): PartitionState[] {
    const out: PartitionState[] = [];
    for (const s of this.partitions.values()) {
      if (s.paused || s.inFetch || s.queued >= MAX_QUEUED_FETCHES || s.fetchOffset === null) continue;
      const leader = this.cluster.cachedTopic(s.topic)?.partitions[s.partition]?.leader ?? -1;
      if (leader === node) out.push(s);
    }
    return out;
  }

  private async fetchLoop(node: number): Promise<void> {
    let failures = 0;
    let idleRounds = 0;
    while (!this.closed) {
      const parts = this.fetchable(node);
      if (parts.length === 0) {
        // Nothing to fetch here: wait for a wake-up (consumption, seek, resume, assignment).
        const hasAny = [...this.partitions.values()].some((s) => (this.cluster.cachedTopic(s.topic)?.partitions[s.partition]?.leader ?? -1) === node);
        if (!hasAny && ++idleRounds > 3) return;
        await new Promise<void>((resolve) => {
          this.fetcherWake.push(resolve);
          setTimeout(resolve, 1000).unref();
        });
        continue;
      }
      idleRounds = 0;
      try {
        await this.fetchOnce(node, parts);
        failures = 0;
      } catch (err) {
        for (const s of parts) s.inFetch = false;
        if (this.closed) return;
        const e = err instanceof Error ? err : new Error(String(err));
        const retriable = e instanceof KafkaClientError && e.retriable;
        if (!retriable) this.surface(e);
        this.cluster.invalidate();
        await sleep(this.cluster.backoff(failures++)).catch(() => undefined);
        await this.cluster.refreshMetadata().catch(() => undefined);
        this.kick();
        // The leader may have moved: this loop ends if it no longer leads anything we want.
      }
    }
  }

  private async fetchOnce(node: number, parts: PartitionState[]): Promise<void> {
    const epochs = parts.map((s) => s.epoch);
    const offsets = parts.map((s) => s.fetchOffset!);
    for (const s of parts) s.inFetch = true;
    const topicIds = new Map<string, string>();
    for (const s of parts) topicIds.set(s.topic, this.cluster.cachedTopic(s.topic)?.topicId ?? '');
    // The leader epochs this Fetch was routed by (KIP-320): a stale one is fenced by the broker.
    const leaderEpochs = parts.map((s) => this.cluster.cachedLeaderEpoch(s.topic, s.partition));
    const res = await this.cluster.send(
      node,
      { request: FetchRequest, response: FetchResponse },
      (v) => {
        const req = FetchRequest.defaults();
        req.replicaId = -1;
        req.maxWaitMs = this.opts.maxWaitMs ?? 500;
        req.minBytes = this.opts.minBytes ?? 1;
        req.maxBytes = this.opts.maxBytes ?? 52_428_800;
        req.isolationLevel = this.isolation;
        req.sessionId = 0;
        req.sessionEpoch = -1;
        const byTopic = new Map<string, FetchRequestFetchTopic>();
        parts.forEach((s, i) => {
          let t = byTopic.get(s.topic);
          if (t === undefined) {
            t = FetchRequest.newStruct('FetchTopic');
            t.topic = s.topic;
            if (v >= 13) t.topicId = topicIds.get(s.topic)!;
            byTopic.set(s.topic, t);
          }
          const p = FetchRequest.newStruct('FetchPartition');
          p.partition = s.partition;
          p.fetchOffset = offsets[i]!;
          if (v >= 9) p.currentLeaderEpoch = leaderEpochs[i]!;
          p.partitionMaxBytes = this.opts.maxPartitionBytes ?? 1_048_576;
          t.partitions.push(p);
        });
        req.topics = [...byTopic.values()];
        return req;
      },
      { timeoutMs: this.cluster.requestTimeoutMs + (this.opts.maxWaitMs ?? 500) },
    );
    for (const s of parts) s.inFetch = false;
    if (res.errorCode !== ErrorCode.NONE) throw new KafkaClientError(res.errorCode, undefined, { where: `Fetch from broker ${node}` });
    const byId = new Map<string, string>();
    for (const [name, id] of topicIds) byId.set(id, name);
    let metadataError: KafkaClientError | null = null;
    for (const t of res.responses) {
      const topic = t.topic !== '' ? t.topic : byId.get(t.topicId) ?? '';
      for (const p of t.partitions) {
        const i = parts.findIndex((s) => s.topic === topic && s.partition === p.partitionIndex);
        if (i < 0) continue;
        const s = parts[i]!;
        if (s.epoch !== epochs[i] || this.partitions.get(this.key(s.topic, s.partition)) !== s) continue; // seeked or revoked meanwhile
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          const reset = this.opts.autoOffsetReset ?? 'latest';
          if (reset === 'none') this.surface(new KafkaClientError(p.errorCode, `offset ${offsets[i]}`, { where: `${s.topic}-${s.partition}` }));
          else {
            s.fetchOffset = null;
            s.position = null;
            s.resetTo = reset;
            s.epoch++;
          }
          continue;
        }
        if (p.errorCode !== ErrorCode.NONE) {
          const err = new KafkaClientError(p.errorCode, undefined, { where: `Fetch ${s.topic}-${s.partition} from broker ${node}` });
          if (err.retriable) metadataError ??= err;
          else this.surface(err);
          continue;
        }
        s.highWatermark = p.highWatermark;
        this.accept(s, offsets[i]!, p);
      }
    }
    if (metadataError !== null) {
      if (isMetadataError(metadataError.code)) this.cluster.invalidate();
      throw metadataError;
    }
  }

  /** Queues a partition's fetched records for the application, after a scan of the batch
   * headers for where the next Fetch starts; the records are decoded by take(). */
  private accept(s: PartitionState, fetchOffset: bigint, p: FetchResponsePartitionData): void {
    const records = p.records;
    if (records === null || records.length === 0) return;
    let next = fetchOffset;
    for (const { header } of iterateBatches(records)) {
      const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
      if (lastOffset >= fetchOffset) next = lastOffset + 1n;
    }
    if (next === fetchOffset) return; // only a partial batch: nothing to hand out yet
    s.fetchOffset = next;
    s.queued++;
    this.ready.push({ state: s, epoch: s.epoch, fetchOffset, nextOffset: next, records, abortedTransactions: p.abortedTransactions, highWatermark: p.highWatermark });
    this.scheduleNotifyReady();
  }

  /** Wakes pollers on the next turn of the event loop, so that the fetch loop sends its next
   * Fetch before the application starts decoding this one. */
  private scheduleNotifyReady(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      this.notifyReady();
    });
  }

  /** The records of a queued response the application may see (aborted and control records dropped). */
  private decode(q: QueuedBatch): ConsumerRecord[] {
    const { records, fetchOffset } = q;
    const s = q.state;
    const out: ConsumerRecord[] = [];
    // read_committed: producers whose transactions aborted, activated at their first offset.
    const aborted = this.isolation === READ_COMMITTED ? [...(q.abortedTransactions ?? [])].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1)) : [];
    const abortedActive = new Set<bigint>();
    let abortedIdx = 0;
    for (const { header, pos } of iterateBatches(records)) {
      const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
      if (lastOffset < fetchOffset) continue;
      while (abortedIdx < aborted.length && aborted[abortedIdx]!.firstOffset <= lastOffset) abortedActive.add(aborted[abortedIdx++]!.producerId);
      const isControl = (header.attributes & ATTR_CONTROL) !== 0;
      const isTxn = (header.attributes & ATTR_TRANSACTIONAL) !== 0;
      if (isControl) {
        if (abortedActive.has(header.producerId)) {
          const decoded = decodeRecordBatch(records, pos);
          const first = decoded.records[0];
          if (first !== undefined && decodeControlRecordKey(first.key).type === ControlRecordType.Abort) abortedActive.delete(header.producerId);
        }
        continue;
      }
      if (isTxn && abortedActive.has(header.producerId)) continue;
      decodeBatchInto(records, pos, s.topic, s.partition, fetchOffset, out);
    }
    return out;
  }

  /** Drops the partition's queued and in-flight fetch results; the next Fetch starts at `offset`. */
  private rewind(s: PartitionState, offset: bigint): void {
    s.epoch++;
    s.queued = 0;
    s.fetchOffset = offset;
  }

  /** Takes the next queued batch that is still valid, decoding it. */
  private take(): ConsumerBatch | null {
    while (this.ready.length > 0) {
      const q = this.ready.shift()!;
      const s = q.state;
      if (q.epoch !== s.epoch || this.partitions.get(this.key(s.topic, s.partition)) !== s) continue;
      if (s.paused) {
        // Paused after fetching: refetch from here on resume, dropping what was fetched after it.
        this.rewind(s, q.fetchOffset);
        continue;
      }
      let records: ConsumerRecord[];
      try {
        records = this.decode(q);
      } catch (err) {
        this.rewind(s, q.fetchOffset); // not skipped: fetched (and reported) again
        throw err;
      }
      s.queued--;
      s.position = q.nextOffset;
      this.kick();
      if (records.length === 0) continue; // only control records or aborted data
      return { topic: s.topic, partition: s.partition, records, highWatermark: q.highWatermark, nextOffset: q.nextOffset };
    }
    return null;
  }

  /**
   * Returns the batches available now, waiting up to `timeoutMs` for the first one. Throws a
   * background error (e.g. a non-retriable fetch error) once.
   */
  async poll(opts: { timeoutMs?: number; signal?: AbortSignal; maxBatches?: number } = {}): Promise<ConsumerBatch[]> {
    this.checkOpen();
    if (this.pendingError !== null) {
      const e = this.pendingError;
      this.pendingError = null;
      throw e;
    }
    const out: ConsumerBatch[] = [];
    const max = opts.maxBatches ?? Infinity;
    let b = this.take();
    if (b === null) {
      const deadline = Date.now() + (opts.timeoutMs ?? 1000);
      while (b === null && !this.closed && this.pendingError === null) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        await this.waitReady(left, opts.signal);
        b = this.take();
      }
    }
    while (b !== null) {
      out.push(b);
      if (out.length >= max) break;
      try {
        b = this.take();
      } catch (err) {
        // A later batch failed to decode: return the ones taken; the error comes with the next poll.
        this.pendingError ??= err instanceof Error ? err : new Error(String(err));
        break;
      }
    }
    if (out.length === 0 && this.pendingError !== null) {
      const e = this.pendingError;
      this.pendingError = null;
      throw e;
    }
    return out;
  }

  private waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(new AbortError(signal.reason));
        return;
      }
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(new AbortError(signal?.reason));
      };
      const timer = setTimeout(finish, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.readyWaiters.push(finish);
    });
  }

  /** `for await (const batch of consumer)`: batches until the consumer is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<ConsumerBatch> {
    while (!this.closed) {
      let batches: ConsumerBatch[];
      try {
        batches = await this.poll({ timeoutMs: 1000, maxBatches: 1 });
      } catch (err) {
        if (this.closed && err instanceof ClientClosedError) return;
        throw err;
      }
      for (const b of batches) yield b;
    }
  }

  /**
   * Callback API: calls `eachBatch` (or `eachMessage` per record) until the signal aborts or
   * the consumer closes. The next batch is already being fetched while the callback runs.
   */
  async run(handlers: {
    eachBatch?: (batch: ConsumerBatch) => void | Promise<void>;
    eachMessage?: (record: ConsumerRecord) => void | Promise<void>;
    signal?: AbortSignal;
  }): Promise<void> {
    while (!this.closed && handlers.signal?.aborted !== true) {
      let batches: ConsumerBatch[];
      try {
        batches = await this.poll({ timeoutMs: 1000, ...(handlers.signal === undefined ? {} : { signal: handlers.signal }) });
      } catch (err) {
        if (err instanceof AbortError || (this.closed && err instanceof ClientClosedError)) return;
        throw err;
      }
      for (const b of batches) {
        if (handlers.eachBatch !== undefined) await handlers.eachBatch(b);
        if (handlers.eachMessage !== undefined) for (const r of b.records) await handlers.eachMessage(r);
      }
    }
  }

  /** Positions of assigned partitions, as commits would store them. */
  private currentPositions(only?: readonly TopicPartition[]): (TopicPartition & { offset: bigint })[] {
    const set = only === undefined ? null : new Set(only.map((tp) => this.key(tp.topic, tp.partition)));
    const out: (TopicPartition & { offset: bigint })[] = [];
    for (const s of this.partitions.values()) {
      if (set !== null && !set.has(this.key(s.topic, s.partition))) continue;
      if (s.position === null || s.position === s.committedPosition) continue;
      out.push({ topic: s.topic, partition: s.partition, offset: s.position });
    }
    return out;
  }

  /** Commits `offsets` (default: the current positions) and waits for the coordinator. */
  async commitSync(offsets?: readonly (TopicPartition & { offset: bigint; metadata?: string })[], only?: readonly TopicPartition[]): Promise<void> {
    const groupId = this.opts.groupId;
    if (groupId === undefined) throw new Error('commits need a groupId');
    const list = offsets ?? this.currentPositions(only);
    const m = this.membership;
    await commitOffsets(this.cluster, this.coordinators, groupId, m?.generationId ?? -1, m?.memberId ?? '', this.opts.groupInstanceId ?? null, list);
    for (const o of list) {
      const s = this.partitions.get(this.key(o.topic, o.partition));
      if (s !== undefined) s.committedPosition = o.offset;
    }
  }

  /**
   * The group, generation and member id (Kafka's groupMetadata()), for a transactional
   * producer's sendOffsetsToTransaction: the coordinator refuses offsets of a member that left
   * the generation, so a zombie cannot commit.
   */
  groupMetadata(): ConsumerGroupMetadata {
    const groupId = this.opts.groupId;
    if (groupId === undefined) throw new Error('groupMetadata needs a groupId');
    const m = this.membership;
    return { groupId, generationId: m?.generationId ?? -1, memberId: m?.memberId ?? '', groupInstanceId: this.opts.groupInstanceId ?? null };
  }

  /** Commits in the background; errors go to `callback` (or are dropped). */
  commitAsync(offsets?: readonly (TopicPartition & { offset: bigint })[], callback?: (err: Error | null) => void): void {
    this.commitSync(offsets).then(
      () => callback?.(null),
      (err: unknown) => callback?.(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** The group's committed offsets for partitions. */
  async committed(tps: readonly TopicPartition[]): Promise<(TopicPartition & { offset: bigint })[]> {
    const groupId = this.opts.groupId;
    if (groupId === undefined) throw new Error('committed offsets need a groupId');
    return fetchCommittedOffsets(this.cluster, this.coordinators, groupId, tps);
  }

  private startAutoCommit(): void {
    if (!this.autoCommit || this.autoCommitTimer !== null) return;
    this.autoCommitTimer = setInterval(() => {
      if (this.membership !== null && !this.membership.isStable) return;
      this.commitAsync();
    }, this.opts.autoCommitIntervalMs ?? 5000);
    this.autoCommitTimer.unref();
  }

  /** Waits until the group has assigned partitions to this member (tests, tools). */
  async waitForAssignment(opts: { timeoutMs?: number } = {}): Promise<TopicPartition[]> {
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    while (this.partitions.size === 0 || this.membership?.isStable === false) {
      if (Date.now() > deadline) throw new KafkaClientError(ErrorCode.REQUEST_TIMED_OUT, 'no partitions assigned in time');
      await sleep(20);
    }
    return this.assignment();
  }

  /** Commits (auto-commit groups), leaves the group and closes connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.autoCommitTimer !== null) clearInterval(this.autoCommitTimer);
    if (this.autoCommit && this.membership !== null && this.membership.isStable) await this.commitSync().catch(() => undefined);
    if (this.membership !== null) {
      const owned = this.assignment();
      if (owned.length > 0) await Promise.resolve(this.opts.rebalanceListener?.onPartitionsRevoked?.(owned)).catch(() => undefined);
      await this.membership.stop();
    }
    this.closed = true;
    this.notifyReady();
    for (const w of this.fetcherWake.splice(0)) w();
    await this.cluster.close();
    await Promise.all([...this.fetchers.values()].map((p) => p.catch(() => undefined)));
  }
}
