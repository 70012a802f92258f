// Test support for the KRaft driver tests: an in-memory network of RaftTransports (each message
// delivered in a later macrotask, as a socket would), a voter with real storage on a temp dir and
// a state machine that is the list of committed values, and waiting helpers. Not used by
// production code.
import * as path from 'node:path';
import { METADATA_TOPIC } from '../../metadata/topic-names.js';
import { decodeRecordBatch, encodeRecordBatch } from '../../protocol/records/record-batch.js';
import { defaultLogConfig } from '../../storage/config.js';
import { PartitionLog } from '../../storage/partition-log.js';
import { DiskRaftStorage } from './disk-raft-storage.js';
import type { RaftConfig } from './quorum-config.js';
import { RaftDriver, type CommittedItem, type RaftTransport } from './raft-driver.js';
import type { LeaderAndEpoch, RaftMessage } from './types.js';

export class InMemoryRaftNetwork {
  private readonly handlers = new Map<number, (m: RaftMessage) => void>();
  private readonly down = new Set<number>();
  delivered = 0;

  transport(nodeId: number): RaftTransport {
    return {
      send: (m) => {
        if (m.from !== nodeId) throw new Error(`node ${nodeId} sends a message from ${m.from}`);
        setImmediate(() => {
          if (this.down.has(m.from) || this.down.has(m.to)) return;
          const h = this.handlers.get(m.to);
          if (h === undefined) return;
          this.delivered++;
          h(m);
        });
      },
      setHandler: (h) => {
        this.handlers.set(nodeId, h);
      },
    };
  }

  /** A node leaves the network (a crash): nothing reaches it or comes from it. */
  remove(nodeId: number): void {
    this.handlers.delete(nodeId);
  }

  /** Cuts (or restores) every link of `nodeId`. */
  isolate(nodeId: number, isolated: boolean): void {
    if (isolated) this.down.add(nodeId);
    else this.down.delete(nodeId);
  }
}

/** Short timeouts so that elections take milliseconds; the assertions never depend on timing. */
/** Short enough for quick elections, long enough that a loaded machine's event-loop stalls (a
 * CI run has seen ~200 ms) do not cost the leader its quorum in the middle of a test. */
export const FAST_RAFT_CONFIG: Partial<RaftConfig> = {
  electionTimeoutMs: 200,
  fetchTimeoutMs: 1000,
  electionBackoffMaxMs: 100,
  requestTimeoutMs: 500,
  retryBackoffMs: 10,
  fetchMaxWaitMs: 50,
};

const WAIT_MS = 15_000;

export async function waitFor<T>(what: string, fn: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A voter: storage on disk, a driver, and a state machine that is the list of committed values. */
export class TestVoter {
  driver!: RaftDriver;
  log!: PartitionLog;
  storage!: DiskRaftStorage;
  values: string[] = [];
  leaderChanges: LeaderAndEpoch[] = [];
  snapshotsLoaded = 0;

  constructor(
    readonly id: number,
    readonly voters: readonly number[],
    readonly dir: string,
    private readonly makeTransport: (id: number) => RaftTransport,
    private readonly config: Partial<RaftConfig>,
  ) {}

  start(): void {
    this.values = [];
    this.log = PartitionLog.open(this.dir, METADATA_TOPIC, 0, defaultLogConfig({ retentionMs: -1, segmentBytes: 16 * 1024 }), undefined, { strictRecovery: true, hadCleanShutdown: false });
    this.storage = DiskRaftStorage.open({ dir: path.join(this.dir, `${METADATA_TOPIC}-0`), store: this.log, voters: this.voters });
    this.driver = new RaftDriver({
      nodeId: this.id,
      voters: this.voters,
      config: this.config,
      storage: this.storage,
      transport: this.makeTransport(this.id),
      snapshotSource: () => [this.values.map((v) => Buffer.from(v))],
    });
    this.driver.onCommitted((c) => this.apply(c));
    this.driver.onLeaderChange((l) => this.leaderChanges.push(l));
    this.driver.start();
  }

  private apply(c: CommittedItem): void {
    if (c.type === 'snapshot') {
      this.snapshotsLoaded++;
      this.values = c.records.map((r) => r.toString());
      return;
    }
    if (c.batch.control !== undefined) return;
    for (const r of decodeRecordBatch(c.batch.data).records) this.values.push(r.value!.toString());
  }

  /** A crash that loses nothing synced: the driver stops, files are closed, nothing resigns. */
  stop(): void {
    this.driver.close();
    this.storage.close();
    this.log.close();
  }
}

export function batchOf(...values: string[]): Buffer {
  return encodeRecordBatch({ records: values.map((v) => ({ key: null, value: Buffer.from(v), timestamp: 1 })) });
}

export async function waitForLeader(voters: readonly TestVoter[], notId?: number): Promise<TestVoter> {
  return waitFor(`one leader among ${voters.map((v) => v.id).join(',')}`, () => {
    const leaders = voters.filter((v) => v.driver.status().role === 'leader' && v.id !== notId);
    if (leaders.length !== 1) return undefined;
    const l = leaders[0]!;
    const epoch = l.driver.status().epoch;
    // Everyone follows it.
    return voters.every((v) => v.driver.leaderAndEpoch().leaderId === l.id && v.driver.leaderAndEpoch().epoch === epoch) ? l : undefined;
  });
}

