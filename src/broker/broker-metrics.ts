// Prometheus metrics on an HTTP listener (`metrics.listener=http://host:port`, off when empty),
// under names that map plainly to Kafka's JMX names (README: "Metrics"). Figures the hot paths
// produce are plain counters on the objects they concern (HostedPartition.traffic) and are
// summed only when /metrics is scraped; request figures come from the router's observer, one
// pre-bound histogram child per API.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../logger.js';
import type { RequestObserver } from '../server/request-router.js';
import { bindFailureReason } from '../server/listener-sockets.js';
import type { GroupCoordinator } from './group/group-coordinator.js';
import type { ReplicaManager } from './replica-manager.js';
import type { CleanerManager } from '../storage/cleaner-manager.js';

export interface BrokerMetricsSources {
  replicas: ReplicaManager;
  groups: () => GroupCoordinator | null;
  connectionCount: () => number;
  /** The clock of the time lag (Date.now by default). */
  nowMs?: () => number;
  /** The log cleaner, when the broker runs one. */
  cleaner?: () => CleanerManager | null;
}

/** Record lookups (a batch read each) one scrape makes for time lag at most; past it, partitions go unreported. */
export const TIME_LAG_LOOKUPS_MAX = 10_000;

/** Every committed offset (>= 0) of every group, on a partition hosted here. */
function* committedPositions(sources: BrokerMetricsSources): Iterable<{ group: string; topic: string; partition: number; committed: number; hosted: NonNullable<ReturnType<ReplicaManager['get']>> }> {
  const groups = sources.groups();
  if (groups === null) return;
  for (const g of groups.listGroups([])) {
    for (const t of groups.fetchOffsets(g.groupId, null).topics) {
      for (const p of t.partitions) {
        const hosted = sources.replicas.get(t.name, p.partitionIndex);
        if (hosted === undefined || p.committedOffset < 0n) continue;
        yield { group: g.groupId, topic: t.name, partition: p.partitionIndex, committed: Number(p.committedOffset), hosted };
      }
    }
  }
}

/** A lookup on a log that may close or fail under it (a deleted topic, a disk error): no sample then. */
function lookupQuietly<T>(fn: () => T | null): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}

/** Seconds: from a fast metadata answer to a long-polled fetch. */
const LATENCY_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30];
const SIZE_BUCKETS = [64, 256, 1024, 16384, 131072, 1048576, 8388608, 67108864];

/** Group state names as a metric label (Kafka's GroupState / ConsumerGroupState). */
const GROUP_STATES = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Assigning', 'Reconciling'];

export class BrokerMetrics implements RequestObserver {
  readonly registry = new Registry();
  private readonly requests: Counter<'request'>;
  private readonly latency: Histogram<'request'>;
  private readonly requestSize: Histogram<'request'>;
  private readonly responseSize: Histogram<'request'>;
  /** Per api key: the label-bound children, so a request costs no label lookup. */
  private readonly perApi = new Map<number, { count: Counter.Internal; latency: Histogram.Internal<"request">; reqSize: Histogram.Internal<"request">; resSize: Histogram.Internal<"request"> }>();

  constructor(private readonly sources: BrokerMetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'tributary_' });
    this.requests = new Counter({ name: 'tributary_requests_total', help: 'Requests answered, per API (kafka.network RequestMetrics RequestsPerSec).', labelNames: ['request'], registers });
    this.latency = new Histogram({ name: 'tributary_request_duration_seconds', help: 'Time from a decoded request to its encoded response, per API (RequestMetrics TotalTimeMs).', labelNames: ['request'], buckets: LATENCY_BUCKETS, registers });
    this.requestSize = new Histogram({ name: 'tributary_request_size_bytes', help: 'Request frame sizes, per API (RequestMetrics RequestBytes).', labelNames: ['request'], buckets: SIZE_BUCKETS, registers });
    this.responseSize = new Histogram({ name: 'tributary_response_size_bytes', help: 'Response sizes, per API.', labelNames: ['request'], buckets: SIZE_BUCKETS, registers });

    const perTopic = (name: string, help: string, pick: (t: { bytesIn: number; messagesIn: number; bytesOut: number }) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['topic'],
        registers,
        collect() {
          this.reset();
          const sums = new Map<string, number>();
          for (const p of sources.replicas.allPartitions()) sums.set(p.topic, (sums.get(p.topic) ?? 0) + pick(p.traffic));
          for (const [topic, v] of sums) this.inc({ topic }, v);
        },
      });
    perTopic('tributary_topic_bytes_in_total', 'Bytes appended by producers, per topic (BrokerTopicMetrics BytesInPerSec).', (t) => t.bytesIn);
    perTopic('tributary_topic_messages_in_total', 'Records appended by producers, per topic (BrokerTopicMetrics MessagesInPerSec).', (t) => t.messagesIn);
    perTopic('tributary_topic_bytes_out_total', 'Bytes sent to consumers, per topic (BrokerTopicMetrics BytesOutPerSec).', (t) => t.bytesOut);

    const perPartition = (name: string, help: string, pick: (p: { store: { sizeInBytes: number; logEndOffset: number } }) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['topic', 'partition'],
        registers,
        collect() {
          this.reset();
          for (const p of sources.replicas.allPartitions()) this.set({ topic: p.topic, partition: String(p.partition) }, pick(p));
        },
      });
    perPartition('tributary_log_size_bytes', 'Size of a partition log on disk (kafka.log Log Size).', (p) => p.store.sizeInBytes);
    perPartition('tributary_log_end_offset', 'Next offset of a partition (kafka.log Log LogEndOffset).', (p) => p.store.logEndOffset);
    // Ready for the cluster: a single node has neither.
    const replicaGauge = (name: string, help: string) =>
      new Gauge({ name, help, registers, collect() { this.set(0); } });
    replicaGauge('tributary_under_replicated_partitions', 'Partitions led here whose ISR is smaller than their replica set (ReplicaManager UnderReplicatedPartitions).');
    replicaGauge('tributary_offline_partitions', 'Partitions without a leader (KafkaController OfflinePartitionsCount).');
    new Gauge({ name: 'tributary_delayed_produce_requests', help: 'acks=all requests waiting for the high watermark (DelayedOperationPurgatory Produce).', registers, collect() { this.set(sources.replicas.delayedProduceCount); } });
    new Gauge({ name: 'tributary_delayed_fetch_requests', help: 'Fetches parked for MinBytes (DelayedOperationPurgatory Fetch).', registers, collect() { this.set(sources.replicas.parkedFetchCount); } });
    new Gauge({ name: 'tributary_connections', help: 'Open client connections (socket-server-metrics connection-count).', registers, collect() { this.set(sources.connectionCount()); } });
    // The log cleaner (kafka.log LogCleaner / LogCleanerManager).
    const cleaner = () => sources.cleaner?.() ?? null;
    new Gauge({
      name: 'tributary_log_cleaner_dirty_ratio',
      help: 'Dirty bytes / (clean + dirty) of a compacted partition, as min.cleanable.dirty.ratio compares it.',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const v of cleaner()?.view() ?? []) this.set({ topic: v.topic, partition: String(v.partition) }, v.dirtyRatio);
      },
    });
    new Gauge({ name: 'tributary_log_cleaner_max_dirty_percent', help: 'Largest dirty ratio (in %) at the cleaner\'s last look (LogCleanerManager max-dirty-percent).', registers, collect() { this.set(100 * (cleaner()?.totals.maxDirtyRatio ?? 0)); } });
    new Gauge({ name: 'tributary_log_cleaner_uncleanable_partitions', help: 'Partitions the cleaner gave up on after an error (LogCleanerManager uncleanable-partitions-count).', registers, collect() { this.set(cleaner()?.uncleanablePartitions ?? 0); } });
    const cleanerCounter = (name: string, help: string, pick: (t: NonNullable<ReturnType<typeof cleaner>>['totals']) => number) =>
      new Counter({ name, help, registers, collect() { const totals = cleaner()?.totals; this.reset(); if (totals !== undefined) this.inc(pick(totals)); } });
    cleanerCounter('tributary_log_cleaner_rounds_total', 'Cleaning rounds finished.', (t) => t.rounds);
    cleanerCounter('tributary_log_cleaner_bytes_read_total', 'Bytes the cleaner read (offset map and rewrite).', (t) => t.bytesRead);
    cleanerCounter('tributary_log_cleaner_bytes_written_total', 'Bytes the cleaner wrote into cleaned segments.', (t) => t.bytesWritten);
    cleanerCounter('tributary_log_cleaner_records_removed_total', 'Records compaction removed.', (t) => t.recordsRemoved);
    new Gauge({
      name: 'tributary_groups',
      help: 'Consumer groups by state (GroupMetadataManager NumGroups<State>).',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        const counts = new Map(GROUP_STATES.map((s) => [s, 0]));
        for (const g of sources.groups()?.listGroups([]) ?? []) counts.set(g.state, (counts.get(g.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    new Counter({
      name: 'tributary_group_rebalances_total',
      help: 'Rebalances per group and reason, since this broker began coordinating the group (group-coordinator-metrics group-rebalance-count and consumer-group-rebalance-count).',
      labelNames: ['group', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const r of sources.groups()?.rebalances.entries() ?? []) this.inc({ group: r.groupId, reason: r.reason }, r.count);
      },
    });
    new Gauge({
      name: 'tributary_consumer_group_lag',
      help: 'Records between a group\'s committed offset and the high watermark, per partition (kafka-consumer-groups LAG).',
      labelNames: ['group', 'topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const c of committedPositions(sources)) {
          this.set({ group: c.group, topic: c.topic, partition: String(c.partition) }, Math.max(0, c.hosted.store.highWatermark - c.committed));
        }
      },
    });
    const nowMs = sources.nowMs ?? (() => Date.now());
    new Gauge({
      name: 'tributary_consumer_group_lag_seconds',
      help: 'Age of the oldest record a group has not consumed, per partition: now minus the timestamp of the record at its committed offset, 0 when caught up (no Kafka equivalent; kafka-consumer-groups has LAG in offsets only).',
      labelNames: ['group', 'topic', 'partition'],
      registers,
      collect() {
        this.reset();
        const now = nowMs();
        // One lookup per distinct (partition, offset) per scrape, at most TIME_LAG_LOOKUPS_MAX.
        const seen = new Map<string, number | null>();
        for (const c of committedPositions(sources)) {
          const store = c.hosted.store;
          let ageMs: number | null = 0;
          if (c.committed < store.highWatermark) {
            const key = `${c.topic}\u0000${c.partition}\u0000${c.committed}`;
            const known = seen.get(key);
            if (known !== undefined) ageMs = known;
            else if (seen.size >= TIME_LAG_LOOKUPS_MAX) continue;
            else {
              const first = lookupQuietly(() => store.firstRecordFrom(c.committed, store.highWatermark));
              ageMs = first === null ? null : Math.max(0, now - first.timestamp);
              seen.set(key, ageMs);
            }
          }
          if (ageMs !== null) this.set({ group: c.group, topic: c.topic, partition: String(c.partition) }, ageMs / 1000);
        }
      },
    });
  }

  requestDone(apiKey: number, apiName: string, seconds: number, requestBytes: number, responseBytes: number): void {
    let c = this.perApi.get(apiKey);
    if (c === undefined) {
      const request = apiName.replace(/Request$/, '');
      c = { count: this.requests.labels(request), latency: this.latency.labels(request), reqSize: this.requestSize.labels(request), resSize: this.responseSize.labels(request) };
      this.perApi.set(apiKey, c);
    }
    c.count.inc();
    c.latency.observe(seconds);
    c.reqSize.observe(requestBytes);
    if (responseBytes > 0) c.resSize.observe(responseBytes);
  }
}

/** `metrics.listener`'s host and port, or null when empty (off). Throws on anything else. */
export function parseMetricsListener(value: string): { host: string; port: number } | null {
  if (value.trim() === '') return null;
  const m = /^http:\/\/(\[[^\]]+\]|[^:/]*):(\d+)\/?$/.exec(value.trim());
  if (m === null || Number(m[2]) > 65535) throw new Error('expected http://host:port (or empty: no metrics listener)');
  return { host: m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(m[2]) };
}

/** Serves GET /metrics from `metrics`; resolves once listening. */
export async function startMetricsServer(metrics: BrokerMetrics, where: { host: string; port: number }, log: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only /metrics here\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (err: unknown) => {
        log.warn({ err }, 'metrics collection failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`metrics.listener http://${where.host}:${where.port}: ${bindFailureReason(err)}`)));
    server.listen(where.port, where.host, () => resolve());
  });
  const addr = server.address();
  log.info({ port: typeof addr === 'object' && addr !== null ? addr.port : where.port, host: where.host }, 'metrics listening');
  return server;
}
