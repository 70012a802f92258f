// The client's view of the cluster: bootstrap, a connection per broker, and the metadata cache
// (brokers, topics, partition leaders). Metadata is refreshed on demand, when it is older than
// metadataMaxAgeMs, and after retriable errors that mean it is stale; concurrent refreshes are
// coalesced into one request. `retry` runs an operation with exponential backoff on retriable
// errors, refreshing metadata in between when the error says leadership moved.
import { ZERO_UUID } from '../protocol/codec/reader.js';
import { ErrorCode } from '../protocol/errors.js';
import { MetadataRequest, type MetadataRequestData } from '../protocol/messages/MetadataRequest.js';
import { MetadataResponse, type MetadataResponseData } from '../protocol/messages/MetadataResponse.js';
import { loggerFor, type Logger } from '../logger.js';
import { Connection, type Api, type ConnectionSaslOptions, type ConnectionTlsOptions, type RequestOptions } from './connection.js';
import { AbortError, ClientClosedError, ConnectionError, KafkaClientError, TopicAuthorizationError, isRetriableError } from './errors.js';
import { backoffMs, sleep } from './retry.js';

export interface ClientOptions {
  /** "host:port" strings, or one comma-separated string (Kafka's bootstrap.servers). */
  bootstrapServers: string | string[];
  clientId?: string;
  /** request.timeout.ms; default 30000. */
  requestTimeoutMs?: number;
  /** socket.connection.setup.timeout.ms; default 10000. */
  connectTimeoutMs?: number;
  /** Attempts after the first for retriable errors; default 10 (bounded by time as well). */
  retries?: number;
  /** retry.backoff.ms; default 100. */
  retryBackoffMs?: number;
  /** retry.backoff.max.ms; default 1000. */
  retryBackoffMaxMs?: number;
  /** metadata.max.age.ms; default 300000. */
  metadataMaxAgeMs?: number;
  /** Highest protocol version to use per api key (tests, old brokers). */
  maxVersions?: ReadonlyMap<number, number>;
  /** TLS (security.protocol=SSL): Node's tls.connect options (ca, cert, key, pfx, passphrase,
   * rejectUnauthorized, ...); `{}` for TLS with the system's CAs. Absent: plaintext. */
  ssl?: ConnectionTlsOptions;
  /** SASL/PLAIN (security.protocol=SASL_PLAINTEXT, or SASL_SSL with `ssl`). */
  sasl?: ConnectionSaslOptions;
}

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionMetadata {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  errorCode: number;
}

export interface TopicMetadata {
  name: string;
  topicId: string;
  isInternal: boolean;
  /** By partition index. */
  partitions: PartitionMetadata[];
}

/** Metadata topic errors that stay until the cluster changes (ACLs, the name): reported as such. */
const LASTING_TOPIC_ERRORS: ReadonlySet<number> = new Set([ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.INVALID_TOPIC_EXCEPTION]);

/** Errors after which the cached leaders are suspect. */
const METADATA_ERRORS = new Set<number>([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.NOT_CONTROLLER,
  ErrorCode.NETWORK_EXCEPTION,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.BROKER_NOT_AVAILABLE,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
]);

export function isMetadataError(code: number): boolean {
  return METADATA_ERRORS.has(code);
}

export function parseHostPort(s: string): { host: string; port: number } {
  const trimmed = s.trim().replace(/^[A-Za-z_]+:\/\//, '');
  const i = trimmed.lastIndexOf(':');
  const host = i < 0 ? trimmed : trimmed.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = i < 0 ? 9092 : Number(trimmed.slice(i + 1));
  if (host === '' || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`invalid broker address '${s}'`);
  return { host, port };
}

export class Cluster {
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  readonly log: Logger;
  private readonly bootstrap: { host: string; port: number }[];
  private readonly opts: ClientOptions;
  private readonly connections = new Map<number, Promise<Connection>>();
  private bootstrapConnection: Promise<Connection> | null = null;
  private readonly brokerMap = new Map<number, BrokerInfo>();
  private readonly topicMap = new Map<string, TopicMetadata>();
  /** Topics the last Metadata answer refused with an error retrying will not clear (not
   * authorized, an invalid name): a lookup reports that error rather than an unknown topic. */
  private readonly topicErrors = new Map<string, number>();
  /** Topics the client has asked about; each refresh covers all of them. */
  private readonly interest = new Set<string>();
  private refreshing: Promise<void> | null = null;
  private lastRefreshMs = 0;
  private stale = true;
  private closed = false;
  clusterId: string | null = null;
  controllerId = -1;
  /** Whether metadata requests may auto-create topics (producers: Kafka's default true). */
  allowAutoTopicCreation = false;

  constructor(opts: ClientOptions) {
    this.opts = opts;
    const list = typeof opts.bootstrapServers === 'string' ? opts.bootstrapServers.split(',') : opts.bootstrapServers;
    this.bootstrap = list.filter((s) => s.trim() !== '').map(parseHostPort);
    if (this.bootstrap.length === 0) throw new Error('bootstrapServers is empty');
    this.clientId = opts.clientId ?? 'tributary';
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.log = loggerFor('client');
  }

  get brokers(): BrokerInfo[] {
    return [...this.brokerMap.values()];
  }

  get retries(): number {
    return this.opts.retries ?? 10;
  }

  backoff(attempt: number): number {
    return backoffMs(attempt, { initialMs: this.opts.retryBackoffMs ?? 100, maxMs: this.opts.retryBackoffMaxMs ?? 1000 });
  }

  /** Every connection opened and not yet closed, so close() reaches all of them. */
  private readonly open = new Set<Connection>();

  private async connect(host: string, port: number, nodeId: number, signal?: AbortSignal): Promise<Connection> {
    const conn = await this.openConnection(host, port, nodeId, signal);
    if (this.closed) {
      conn.close();
      throw new ClientClosedError();
    }
    this.open.add(conn);
    conn.once('close', () => this.open.delete(conn));
    return conn;
  }

  private openConnection(host: string, port: number, nodeId: number, signal?: AbortSignal): Promise<Connection> {
    return Connection.connect(
      {
        host,
        port,
        nodeId,
        clientId: this.clientId,
        requestTimeoutMs: this.requestTimeoutMs,
        connectTimeoutMs: this.opts.connectTimeoutMs ?? 10_000,
        ...(this.opts.maxVersions === undefined ? {} : { maxVersions: this.opts.maxVersions }),
        ...(this.opts.ssl === undefined ? {} : { tls: this.opts.ssl }),
        ...(this.opts.sasl === undefined ? {} : { sasl: this.opts.sasl }),
      },
      signal,
    );
  }

  private checkOpen(): void {
    if (this.closed) throw new ClientClosedError();
  }

  /** The connection to a broker by node id (opened on first use, reopened after a failure). */
  async connection(nodeId: number, signal?: AbortSignal): Promise<Connection> {
    this.checkOpen();
    const existing = this.connections.get(nodeId);
    if (existing !== undefined) {
      const conn = await existing.catch(() => null);
      if (conn !== null && !conn.isClosed) return conn;
      if (this.connections.get(nodeId) === existing) this.connections.delete(nodeId);
      else return this.connection(nodeId, signal);
    }
    let broker = this.brokerMap.get(nodeId);
    if (broker === undefined) {
      await this.refreshMetadata();
      broker = this.brokerMap.get(nodeId);
      if (broker === undefined) throw new KafkaClientError(ErrorCode.BROKER_NOT_AVAILABLE, `broker ${nodeId} is not in the cluster metadata`);
    }
    const p = this.connect(broker.host, broker.port, nodeId, signal);
    this.connections.set(nodeId, p);
    p.then(
      (c) => c.once('close', () => this.connections.get(nodeId) === p && this.connections.delete(nodeId)),
      () => this.connections.get(nodeId) === p && this.connections.delete(nodeId),
    );
    return p;
  }

  /** Some live connection: a known broker's, else a bootstrap server's. */
  async anyConnection(signal?: AbortSignal): Promise<Connection> {
    this.checkOpen();
    for (const p of this.connections.values()) {
      const c = await p.catch(() => null);
      if (c !== null && !c.isClosed) return c;
    }
    if (this.bootstrapConnection !== null) {
      const c = await this.bootstrapConnection.catch(() => null);
      if (c !== null && !c.isClosed) return c;
      this.bootstrapConnection = null;
    }
    let lastError: unknown = null;
    const candidates = [...this.brokerMap.values(), ...this.bootstrap];
    for (const { host, port } of candidates) {
      const p = this.connect(host, port, -1, signal);
      try {
        const c = await p;
        this.bootstrapConnection = p;
        return c;
      } catch (err) {
        if (err instanceof AbortError) throw err;
        // Wrong credentials are not a broker being down: say so at once, as Kafka's clients do.
        if (err instanceof KafkaClientError && err.code === ErrorCode.SASL_AUTHENTICATION_FAILED) throw err;
        lastError = err;
      }
    }
    const reason = lastError instanceof KafkaClientError ? lastError.detail ?? lastError.message : lastError instanceof Error ? lastError.message : 'no broker reachable';
    throw new ConnectionError(`cannot reach any broker (${reason})`, { cause: lastError });
  }

  /** Refreshes the metadata of every topic of interest plus `topics`; coalesces concurrent calls. */
  async refreshMetadata(topics: readonly string[] = [], signal?: AbortSignal): Promise<void> {
    this.checkOpen();
    for (const t of topics) this.interest.add(t);
    // A refresh already running may have been sent before these topics were added: wait for
    // it, then run again unless it covered them.
    while (this.refreshing !== null) {
      await this.refreshing.catch(() => undefined);
      if (topics.length > 0 && topics.every((t) => this.topicMap.has(t))) return;
      if (topics.length === 0) return;
    }
    const wanted = [...this.interest];
    this.refreshing = this.fetchMetadata(wanted, this.allowAutoTopicCreation, signal).then((res) => this.apply(res, wanted));
    try {
      await this.refreshing;
    } finally {
      this.refreshing = null;
    }
  }

  /** One Metadata request; `topics` null asks for every topic. */
  async fetchMetadata(topics: readonly string[] | null, allowAutoCreate: boolean, signal?: AbortSignal): Promise<MetadataResponseData> {
    const conn = await this.anyConnection(signal);
    return conn.request(
      { request: MetadataRequest, response: MetadataResponse },
      (v) => {
        const req: MetadataRequestData = MetadataRequest.defaults();
        req.topics = topics === null ? (v >= 1 ? null : []) : topics.map((name) => ({ topicId: ZERO_UUID, name }));
        if (v >= 4) req.allowAutoTopicCreation = allowAutoCreate;
        return req;
      },
      signal === undefined ? {} : { signal },
    );
  }

  private apply(res: MetadataResponseData, requested: readonly string[] | null): void {
    this.brokerMap.clear();
    for (const b of res.brokers) this.brokerMap.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
    this.clusterId = res.clusterId;
    this.controllerId = res.controllerId;
    const seen = new Set<string>();
    for (const t of res.topics) {
      if (t.name === null) continue;
      seen.add(t.name);
      if (t.errorCode !== ErrorCode.NONE) {
        this.topicMap.delete(t.name);
        if (LASTING_TOPIC_ERRORS.has(t.errorCode)) this.topicErrors.set(t.name, t.errorCode);
        else this.topicErrors.delete(t.name);
        continue;
      }
      this.topicErrors.delete(t.name);
      const partitions: PartitionMetadata[] = t.partitions
        .map((p) => ({
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offlineReplicas: p.offlineReplicas,
          errorCode: p.errorCode,
        }))
        .sort((a, b) => a.partition - b.partition);
      this.topicMap.set(t.name, { name: t.name, topicId: t.topicId, isInternal: t.isInternal, partitions });
    }
    if (requested !== null) {
      for (const t of requested) {
        if (seen.has(t)) continue;
        this.topicMap.delete(t);
        this.topicErrors.delete(t);
      }
    }
    this.lastRefreshMs = Date.now();
    this.stale = false;
  }

  /** Marks the cache stale so the next lookup refreshes it. */
  invalidate(): void {
    this.stale = true;
  }

  private needsRefresh(): boolean {
    return this.stale || Date.now() - this.lastRefreshMs > (this.opts.metadataMaxAgeMs ?? 300_000);
  }

  /** Cached metadata of a topic without a request, if known. */
  cachedTopic(topic: string): TopicMetadata | undefined {
    return this.topicMap.get(topic);
  }

  /**
   * The error the last Metadata answer gave for `topic` that retrying will not clear, as Kafka's
   * clients raise it: TopicAuthorizationError for TOPIC_AUTHORIZATION_FAILED; null if none.
   */
  topicError(topic: string): KafkaClientError | null {
    const code = this.topicErrors.get(topic);
    if (code === undefined) return null;
    return code === ErrorCode.TOPIC_AUTHORIZATION_FAILED ? new TopicAuthorizationError([topic]) : new KafkaClientError(code, undefined, { where: `topic ${topic}` });
  }

  /**
   * Metadata of a topic, refreshing when unknown or stale. Throws UNKNOWN_TOPIC_OR_PARTITION
   * (retriable) when the broker does not know it, and the broker's error when it refused the
   * topic (TopicAuthorizationError without DESCRIBE; not retriable).
   */
  async topic(topic: string, signal?: AbortSignal): Promise<TopicMetadata> {
    let t = this.topicMap.get(topic);
    if (t === undefined || this.needsRefresh() || !this.interest.has(topic)) {
      await this.refreshMetadata([topic], signal);
      t = this.topicMap.get(topic);
    }
    if (t === undefined) throw this.topicError(topic) ?? new KafkaClientError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, undefined, { where: `topic ${topic}` });
    return t;
  }

  /**
   * The partition's leader epoch from the cache, -1 if unknown. Sent as currentLeaderEpoch
   * (KIP-320) so a broker fences a client whose metadata is stale (FENCED_LEADER_EPOCH) or
   * newer than its own (UNKNOWN_LEADER_EPOCH); both are retriable metadata errors here.
   */
  cachedLeaderEpoch(topic: string, partition: number): number {
    const p = this.topicMap.get(topic)?.partitions[partition];
    return p === undefined || p.partition !== partition ? -1 : p.leaderEpoch;
  }

  /** Leader node of a partition; LEADER_NOT_AVAILABLE (retriable) if it has none right now. */
  async leaderFor(topic: string, partition: number, signal?: AbortSignal): Promise<number> {
    const t = await this.topic(topic, signal);
    const p = t.partitions[partition];
    if (p === undefined || p.partition !== partition) {
      throw new KafkaClientError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, undefined, { where: `${topic}-${partition}` });
    }
    if (p.leader < 0) throw new KafkaClientError(ErrorCode.LEADER_NOT_AVAILABLE, undefined, { where: `${topic}-${partition}` });
    return p.leader;
  }

  /** Sends a request to a broker by node id. */
  async send<Req, Res>(nodeId: number, api: Api<Req, Res>, build: (version: number) => Req, opts: RequestOptions = {}): Promise<Res> {
    const conn = await this.connection(nodeId, opts.signal);
    return conn.request(api, build, opts);
  }

  /** Sends a request to any broker (controller-routed APIs on a KRaft cluster go to any broker). */
  async sendAny<Req, Res>(api: Api<Req, Res>, build: (version: number) => Req, opts: RequestOptions = {}): Promise<Res> {
    const conn = await this.anyConnection(opts.signal);
    return conn.request(api, build, opts);
  }

  /**
   * Runs `op` until it succeeds, a non-retriable error occurs, or retries run out. Between
   * attempts it backs off exponentially and, after errors that mean stale metadata, refreshes.
   */
  async retry<T>(op: (attempt: number) => Promise<T>, signal?: AbortSignal, retries = this.retries): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      this.checkOpen();
      try {
        return await op(attempt);
      } catch (err) {
        if (!isRetriableError(err) || attempt >= retries || this.closed) throw err;
        const code = (err as KafkaClientError).code;
        this.log.debug({ err: (err as Error).message, attempt }, 'retrying');
        await sleep(this.backoff(attempt), signal);
        if (isMetadataError(code)) {
          this.invalidate();
          await this.refreshMetadata([], signal).catch(() => undefined);
        }
      }
    }
  }

  /** Closes every connection; outstanding requests fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.connections.values()];
    if (this.bootstrapConnection !== null) all.push(this.bootstrapConnection);
    this.connections.clear();
    this.bootstrapConnection = null;
    for (const c of [...this.open]) c.close();
    this.open.clear();
    for (const p of all) {
      const c = await p.catch(() => null);
      c?.close();
    }
  }
}
