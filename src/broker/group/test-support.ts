// Test doubles shared by the group coordinator's unit tests: a manual clock-and-timer scheduler
// and an in-memory __consumer_offsets with a table of topics.
import { randomBytes } from 'node:crypto';
import { ErrorCode } from '../../protocol/errors.js';
import type { TopicMetadataView } from './consumer-group-coordinator.js';
import type { GroupLogStore, Scheduler } from './group-coordinator.js';

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

/** __consumer_offsets in memory (50 partitions), plus the topics the groups may subscribe to. */
export class MemoryOffsetsTopic implements GroupLogStore {
  readonly batches = new Map<number, Buffer[]>();
  readonly topicTable = new Map<string, { topicId: string; numPartitions: number }>();
  /** Makes appends fail as a full ISR loss would. */
  failAppends = false;
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
    if (this.failAppends) return ErrorCode.NOT_ENOUGH_REPLICAS;
    const list = this.batches.get(partition) ?? [];
    list.push(batch);
    this.batches.set(partition, list);
    return ErrorCode.NONE;
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
