// Test doubles shared by the group coordinator's unit tests: a manual clock-and-timer scheduler
// and an in-memory __consumer_offsets with a table of topics.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { TopicMetadataView } from './consumer-group-coordinator.js';
import type { GroupCoordinatorConfig, GroupLogStore, OffsetsPartitionListener, Scheduler } from './group-coordinator.js';

export class ManualScheduler implements Scheduler {
  now = 1_000_000;
  private timers: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  private seq = 0;
  schedule(delayMs: number, fn: () => void) {
    const t = { at: this.now + delayMs, seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }
  /** Moves the clock forward, running every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      due.cancelled = true;
      this.now = Math.max(this.now, due.at);
      due.fn();
    }
    this.now = end;
    this.timers = this.timers.filter((t) => !t.cancelled);
  }
}

/**
 * __consumer_offsets in memory (50 partitions, all led here), plus the topics the groups may
 * subscribe to. Each batch is one offset. The high watermark follows every append unless
 * `holdCommits` is set (a follower that lags): then `commitAll()` moves it.
 */
export class MemoryOffsetsTopic implements GroupLogStore {
  readonly batches = new Map<number, Buffer[]>();
  readonly topicTable = new Map<string, { topicId: string; numPartitions: number }>();
  readonly hwm = new Map<number, number>();
  /** Makes appends fail as a full ISR loss would. */
  failAppends = false;
  holdCommits = false;
  private listener: OffsetsPartitionListener | null = null;
  watch(listener: OffsetsPartitionListener) {
    this.listener = listener;
    for (let p = 0; p < this.numPartitions(); p++) listener.becameLeader(p, 0);
  }
  /** Moves every partition's high watermark to its log end. */
  commitAll() {
    for (const [p, list] of this.batches) {
      if ((this.hwm.get(p) ?? 0) >= list.length) continue;
      this.hwm.set(p, list.length);
      this.listener?.highWatermark(p, list.length);
    }
  }
  /** Leadership of `partition` moves away (and back with `leaderEpoch`). */
  resign(partition: number) {
    this.listener?.resigned(partition);
  }
  lead(partition: number, leaderEpoch: number) {
    this.listener?.becameLeader(partition, leaderEpoch);
  }
  highWatermark(partition: number) {
    return this.hwm.get(partition) ?? 0;
  }
  isEmpty(partition: number) {
    return (this.batches.get(partition) ?? []).length === 0;
  }
  ensureTopic() {
    return ErrorCode.NONE;
  }
  topicExists() {
    return true;
  }
  numPartitions() {
    return 50;
  }
  append(partition: number, batch: Buffer) {
    if (this.failAppends) return { errorCode: ErrorCode.NOT_ENOUGH_REPLICAS, commitOffset: -1 };
    const list = this.batches.get(partition) ?? [];
    list.push(batch);
    this.batches.set(partition, list);
    if (!this.holdCommits) {
      this.hwm.set(partition, list.length);
      this.listener?.highWatermark(partition, list.length);
    }
    return { errorCode: ErrorCode.NONE, commitOffset: list.length };
  }
  readAll(partition: number) {
    return this.batches.get(partition) ?? [];
  }
  partitionExists(topic: string, partition: number) {
    const t = this.topicTable.get(topic);
    return t !== undefined && partition >= 0 && partition < t.numPartitions;
  }
  readonly topics: TopicMetadataView = {
    topicByName: (name) => this.topicTable.get(name),
    topicNameById: (id) => [...this.topicTable].find(([, t]) => t.topicId === id)?.[0],
    topicNames: () => this.topicTable.keys(),
  };
  removeTopic(name: string): void {
    this.topicTable.delete(name);
  }
  addTopic(name: string, numPartitions: number): string {
    const topicId = this.topicTable.get(name)?.topicId ?? randomBytes(16).toString('base64url');
    this.topicTable.set(name, { topicId, numPartitions });
    return topicId;
  }
}

/** A logger at `level` whose JSON lines are kept in `lines` (parsed), for tests on what is logged. */
export function capturingLogger(level = 'info'): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level }, sink), lines };
}

/** The rebalance lines among `lines` (the one INFO line each rebalance gets). */
export function rebalanceLines(lines: readonly Record<string, unknown>[]): { groupId: unknown; reason: unknown; detail: unknown; level: unknown }[] {
  return lines.filter((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('rebalancing group ')).map((l) => ({ groupId: l['groupId'], reason: l['reason'], detail: l['detail'], level: l['level'] }));
}

/** The group coordinator's settings in unit tests (short timeouts, small groups). */
export const TEST_GROUP_CONFIG: GroupCoordinatorConfig = {
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 300_000,
  initialRebalanceDelayMs: 3000,
  maxGroupSize: 100,
  offsetsRetentionMs: 60_000,
  offsetsRetentionCheckIntervalMs: 10_000,
  offsetMetadataMaxBytes: 4096,
};
