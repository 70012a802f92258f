// Settings of the KRaft core, with Kafka's configuration keys and defaults. `controller.quorum.*`
// are Kafka's QuorumConfig keys; the snapshot keys are the metadata loader's. Parsing takes the
// raw string values (as server.properties holds them) so a bad value stops start-up with a
// message naming the key.

/** A voter from `controller.quorum.voters` (`{id}@{host}:{port}`). */
export interface VoterEndpoint {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

export interface RaftConfig {
  /** controller.quorum.election.timeout.ms: an election starts after a random wait in [T, 2T). */
  readonly electionTimeoutMs: number;
  /** controller.quorum.fetch.timeout.ms: a follower without a successful fetch for this long starts
   * an election; a leader without fetches from a majority for 1.5 times this resigns. */
  readonly fetchTimeoutMs: number;
  /** controller.quorum.election.backoff.max.ms: the cap of the backoff after a lost election. */
  readonly electionBackoffMaxMs: number;
  /** controller.quorum.request.timeout.ms: an unanswered request is sent again after this. */
  readonly requestTimeoutMs: number;
  /** controller.quorum.retry.backoff.ms: the wait after an error response before retrying. */
  readonly retryBackoffMs: number;
  /** How long the leader parks a Fetch with nothing new (Kafka's KRaft uses 500 ms). */
  readonly fetchMaxWaitMs: number;
  /** Bytes per Fetch response and per FetchSnapshot chunk (Kafka's KRaft: 8 MiB). */
  readonly fetchMaxBytes: number;
  /** Largest batch a proposal may carry (Kafka's KRaft MAX_BATCH_SIZE_BYTES, 8 MiB). */
  readonly maxBatchBytes: number;
  /** Bytes the leader holds appended but not committed before it refuses proposals. */
  readonly maxUncommittedBytes: number;
  /** Bytes of committed batches handed to the driver per Ready. */
  readonly maxApplyBytesPerReady: number;
  /** metadata.log.max.record.bytes.between.snapshots: applied bytes that trigger a snapshot. */
  readonly snapshotMinBytes: number;
  /** metadata.log.max.snapshot.interval.ms: the longest time between snapshots when there are new
   * records (0 turns the time trigger off). */
  readonly snapshotIntervalMs: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_RAFT_CONFIG: RaftConfig = {
  electionTimeoutMs: 1000,
  fetchTimeoutMs: 2000,
  electionBackoffMaxMs: 1000,
  requestTimeoutMs: 2000,
  retryBackoffMs: 20,
  fetchMaxWaitMs: 500,
  fetchMaxBytes: 8 * MiB,
  maxBatchBytes: 8 * MiB,
  maxUncommittedBytes: 64 * MiB,
  maxApplyBytesPerReady: 8 * MiB,
  snapshotMinBytes: 20 * MiB,
  snapshotIntervalMs: 3_600_000,
};

/** A configuration key and the RaftConfig field it sets. */
const KEYS: ReadonlyArray<readonly [string, keyof RaftConfig, number]> = [
  ['controller.quorum.election.timeout.ms', 'electionTimeoutMs', 1],
  ['controller.quorum.fetch.timeout.ms', 'fetchTimeoutMs', 1],
  ['controller.quorum.election.backoff.max.ms', 'electionBackoffMaxMs', 0],
  ['controller.quorum.request.timeout.ms', 'requestTimeoutMs', 1],
  ['controller.quorum.retry.backoff.ms', 'retryBackoffMs', 0],
  ['metadata.log.max.record.bytes.between.snapshots', 'snapshotMinBytes', 1],
  ['metadata.log.max.snapshot.interval.ms', 'snapshotIntervalMs', 0],
];

export class RaftConfigError extends Error {
  override name = 'RaftConfigError';
}

/** Builds a RaftConfig from configuration values; unset keys take Kafka's defaults. */
export function raftConfigFromProperties(props: ReadonlyMap<string, string>): RaftConfig {
  const out: Record<string, number> = { ...DEFAULT_RAFT_CONFIG };
  for (const [key, field, min] of KEYS) {
    const raw = props.get(key);
    if (raw === undefined) continue;
    const v = Number(raw.trim());
    if (raw.trim() === '' || !Number.isSafeInteger(v) || v < min) {
      throw new RaftConfigError(`Invalid value '${raw}' for configuration '${key}': must be an integer >= ${min}`);
    }
    out[field] = v;
  }
  return out as unknown as RaftConfig;
}

/**
 * Parses `controller.quorum.voters`: `{id}@{host}:{port}` entries separated by commas. Ids are
 * distinct non-negative integers; an IPv6 host is written in brackets.
 */
export function parseQuorumVoters(value: string): VoterEndpoint[] {
  const key = 'controller.quorum.voters';
  const out: VoterEndpoint[] = [];
  if (value.trim() === '') return out;
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    const m = /^(\d+)@(\[[^\]]+\]|[^:@\s]+):(\d+)$/.exec(entry);
    if (m === null) throw new RaftConfigError(`Invalid value '${value}' for configuration '${key}': entry '${entry}' is not {id}@{host}:{port}`);
    const id = Number(m[1]);
    const port = Number(m[3]);
    if (!Number.isSafeInteger(id) || id > 0x7fffffff) throw new RaftConfigError(`Invalid value '${value}' for configuration '${key}': voter id '${m[1]}' is out of range`);
    if (port < 1 || port > 65535) throw new RaftConfigError(`Invalid value '${value}' for configuration '${key}': port ${m[3]} of voter ${id} is out of range`);
    if (out.some((v) => v.id === id)) throw new RaftConfigError(`Invalid value '${value}' for configuration '${key}': voter id ${id} appears twice`);
    const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
    out.push({ id, host, port });
  }
  return out;
}

/**
 * Whether a new metadata snapshot is due, as Kafka decides it: `bytesSinceSnapshot` bytes of
 * records since the last one reached metadata.log.max.record.bytes.between.snapshots, or
 * metadata.log.max.snapshot.interval.ms (0: off) passed since it with some new records. Shared by
 * the Raft core and the single voter's snapshotter.
 */
export function snapshotDue(cfg: Pick<RaftConfig, 'snapshotMinBytes' | 'snapshotIntervalMs'>, bytesSinceSnapshot: number, lastSnapshotMs: number, nowMs: number): boolean {
  if (bytesSinceSnapshot === 0) return false;
  if (bytesSinceSnapshot >= cfg.snapshotMinBytes) return true;
  return cfg.snapshotIntervalMs > 0 && nowMs >= lastSnapshotMs + cfg.snapshotIntervalMs;
}
