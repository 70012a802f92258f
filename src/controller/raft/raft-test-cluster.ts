// A scripted cluster for the KRaft unit tests: instant delivery by default, a filter to drop or
// hold messages, a manual clock, and a driver that follows the contract in raft-node.ts
// (write, sync, send, apply, snapshot, persisted) at once for every Ready.
import { MemoryRaftStorage } from './memory-raft-storage.js';
import type { RaftConfig } from './quorum-config.js';
import { RaftNode, type Ready } from './raft-node.js';
import { KvStateMachine } from './kv-state-machine.js';
import type { ElectionState, RaftMessage } from './types.js';

export interface TestNode {
  readonly id: number;
  readonly storage: MemoryRaftStorage;
  raft: RaftNode;
  sm: KvStateMachine;
  /** Every Ready this node produced, in order. */
  readonly readys: Ready[];
  /** What `random()` returns for this node (default 0: the shortest timeouts). */
  randomValue: number;
}

/** Which messages the network lets through; the others are dropped. */
export type MessageFilter = (m: RaftMessage) => boolean;

export class TestCluster {
  now = 0;
  readonly nodes = new Map<number, TestNode>();
  /** Messages sent and not delivered yet. */
  network: RaftMessage[] = [];
  /** Everything ever sent, for assertions. */
  readonly sent: RaftMessage[] = [];
  filter: MessageFilter = () => true;

  constructor(
    readonly voters: readonly number[],
    readonly config: Partial<RaftConfig> = {},
  ) {}

  private readonly storages = new Map<number, MemoryRaftStorage>();

  /**
   * Starts (or restarts, from its storage) a node. The first voter times out first by default
   * (random 0: the shortest election timeout); `storage` gives a node prepared storage.
   */
  start(id: number, opts: { randomValue?: number; storage?: MemoryRaftStorage } = {}): TestNode {
    const randomValue = opts.randomValue ?? (id === this.voters[0] ? 0 : 0.9);
    const storage = opts.storage ?? this.storages.get(id) ?? new MemoryRaftStorage();
    this.storages.set(id, storage);
    const electionState: ElectionState | undefined = storage.electionState();
    const node: TestNode = {
      id,
      storage,
      raft: undefined as unknown as RaftNode,
      sm: new KvStateMachine(),
      readys: [],
      randomValue,
    };
    node.raft = new RaftNode({
      nodeId: id,
      voters: this.voters,
      config: this.config,
      log: storage,
      ...(electionState !== undefined ? { electionState } : {}),
      random: () => node.randomValue,
      nowMs: this.now,
    });
    this.nodes.set(id, node);
    this.handle(node);
    return node;
  }

  /** Stops a node (a crash that loses nothing: every Ready here is synced at once). */
  stop(id: number): void {
    this.nodes.delete(id);
    this.network = this.network.filter((m) => m.to !== id);
  }

  node(id: number): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`node ${id} is not running`);
    return n;
  }

  /** Follows the driver contract for every Ready of `node`. */
  handle(node: TestNode): void {
    for (let r = node.raft.ready(); r !== undefined; r = node.raft.ready()) {
      node.readys.push(r);
      if (r.electionState !== undefined) node.storage.write({ type: 'electionState', state: r.electionState });
      for (const op of r.logOps) node.storage.write(op);
      node.storage.sync();
      for (const m of r.messages) {
        this.sent.push(m);
        this.network.push(m);
      }
      for (const c of r.committed) {
        if (c.type === 'snapshot') node.sm.load(node.storage.snapshotBytes(c.snapshotId));
        else node.sm.apply(c.batch);
      }
      if (r.snapshotRequest !== undefined) {
        node.storage.writeSnapshot(r.snapshotRequest, node.sm.snapshot());
        node.raft.snapshotCreated(r.snapshotRequest, this.now);
      }
      node.raft.persisted(r.seq);
    }
  }

  /** Delivers queued messages (in order) until none are left; the filter drops some. */
  deliverAll(): void {
    for (let rounds = 0; this.network.length > 0; rounds++) {
      if (rounds > 100_000) throw new Error('messages never stop');
      const m = this.network.shift()!;
      const to = this.nodes.get(m.to);
      if (to === undefined || !this.filter(m)) continue;
      to.raft.step(m, this.now);
      this.handle(to);
    }
  }

  /** Lets `ms` pass: timers fire in order, messages are delivered instantly in between. */
  advance(ms: number): void {
    const target = this.now + ms;
    this.deliverAll();
    for (let rounds = 0; ; rounds++) {
      if (rounds > 100_000) throw new Error('timers never stop');
      let next: TestNode | undefined;
      let at = Infinity;
      for (const n of this.nodes.values()) {
        const t = n.raft.nextDeadlineMs();
        if (t < at) [at, next] = [t, n];
      }
      if (next === undefined || at > target) break;
      this.now = Math.max(this.now, at);
      next.raft.tick(this.now);
      this.handle(next);
      this.deliverAll();
    }
    this.now = target;
  }

  /** Proposes a small key-value command; returns the result. */
  propose(id: number, k: number, v: number): ReturnType<RaftNode['propose']> {
    const n = this.node(id);
    const result = n.raft.propose({ data: Buffer.from(JSON.stringify({ id: `k${k}v${v}`, k, v })), recordCount: 1 }, this.now);
    this.handle(n);
    return result;
  }

  /** The one running node that is leader, or undefined. */
  leader(): TestNode | undefined {
    const leaders = [...this.nodes.values()].filter((n) => n.raft.status().role === 'leader');
    if (leaders.length > 1) throw new Error(`several leaders: ${leaders.map((n) => n.id).join(', ')}`);
    return leaders[0];
  }
}
