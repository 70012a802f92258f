// A deterministic simulation of a KRaft quorum for tests: a seeded PRNG drives a virtual clock,
// a network that loses, delays, duplicates and reorders messages and cuts links, crashes that
// keep only synced writes (or some or all of the unsynced ones), restarts, client proposals
// and graceful resignations. A checker runs after every event:
//   - at most one leader per epoch, over all time;
//   - log matching: the same (offset, epoch) on any two logs means the same prefix (checked
//     through prefix digests stored with every batch as it is written);
//   - committed entries never change or disappear: every node's committed prefix equals the
//     reference committed sequence, which only grows, and is durable on a majority of voters;
//   - leader completeness: a new leader's log holds the whole committed sequence, as does the
//     leader of the highest epoch so far while it leads;
//   - replayed images: every node's state machine, at its applied offset, equals the reference
//     state machine at that offset (which also checks snapshots sent in chunks);
//   - the core's own invariants (assertions) and its copy of the log shape against storage.
// After the faults stop and the network heals, a leader must be elected and a proposal commit
// and reach every node within a bounded virtual time.
import { type KvCommand, KvStateMachine, prefixDigest } from './kv-state-machine.js';
import type { RaftConfig } from './quorum-config.js';
import { type Committed, RaftNode, type Ready } from './raft-node.js';
import { MemoryRaftStorage } from './memory-raft-storage.js';
import type { RaftBatch, RaftMessage, SnapshotId } from './types.js';

// ---------------------------------------------------------------------------------------------
// Randomness

/** mulberry32: small, fast and good enough to drive schedules; the same seed, the same run. */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** A new generator seeded from this one. */
  fork(): Prng {
    return new Prng(Math.floor(this.next() * 4294967296));
  }
}

// ---------------------------------------------------------------------------------------------
// Events

type SimEvent =
  | { readonly kind: 'deliver'; readonly message: RaftMessage }
  | { readonly kind: 'sync'; readonly node: number; readonly incarnation: number }
  | { readonly kind: 'fault' }
  | { readonly kind: 'propose' }
  /** Nothing but time passing (a client waiting to retry). */
  | { readonly kind: 'wake' };

/** A binary min-heap on (time, insertion order): ties run in the order they were scheduled. */
class EventQueue {
  private readonly heap: Array<{ t: number; n: number; e: SimEvent }> = [];
  private counter = 0;
  get size(): number {
    return this.heap.length;
  }
  push(t: number, e: SimEvent): void {
    const h = this.heap;
    h.push({ t, n: this.counter++, e });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  peekTime(): number {
    return this.heap.length === 0 ? Infinity : this.heap[0]!.t;
  }
  pop(): { t: number; e: SimEvent } {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
  private less(a: { t: number; n: number }, b: { t: number; n: number }): boolean {
    return a.t < b.t || (a.t === b.t && a.n < b.n);
  }
}

// ---------------------------------------------------------------------------------------------
// The cluster

export interface ScheduleOptions {
  readonly seed: number;
  /** Prints every event. */
  readonly trace?: boolean;
  /**
   * Breaks the model on purpose, to show that the checker notices: `forgeVoteGrants` turns
   * every rejected vote into a granted one on the wire.
   */
  readonly sabotage?: 'forgeVoteGrants';
}

export interface ScheduleResult {
  readonly seed: number;
  readonly voters: number;
  readonly events: number;
  readonly elections: number;
  readonly committedOffset: number;
  readonly crashes: number;
  readonly snapshotsInstalled: number;
}

interface SimNode {
  readonly id: number;
  readonly voter: boolean;
  readonly storage: MemoryRaftStorage;
  raft: RaftNode | undefined;
  sm: KvStateMachine | undefined;
  incarnation: number;
  /** Readys written and waiting for the sync that lets their messages out. */
  pending: Ready[];
  syncScheduled: boolean;
  /** The last applied offset the checker compared. */
  checkedApplied: number;
  /** The last commit offset the checker compared. */
  checkedCommit: number;
}

/** A broken property, with what the checker saw. */
export class SimulationFailure extends Error {
  override name = 'SimulationFailure';
}

const OBSERVER_ID = 100;
const MAX_EVENTS = 400_000;

export class RaftSimulation {
  private readonly rng: Prng;
  private readonly nodes: SimNode[] = [];
  private readonly voterIds: number[];
  private readonly queue = new EventQueue();
  private now = 0;
  private events = 0;
  private lastTick = { node: -1, at: -1, repeats: 0 };
  private readonly trace: string[] = [];
  private readonly printTrace: boolean;
  readonly config: Partial<RaftConfig>;

  // network
  private lossRate: number;
  private duplicateRate: number;
  private readonly delayMinMs: number;
  private readonly delayMaxMs: number;
  private readonly cut = new Set<string>();
  private readonly maxSyncDelayMs: number;

  // faults
  private faultsOn = true;
  private readonly faultIntervalMs: number;
  private readonly proposeIntervalMs: number;
  private proposalCounter = 0;
  private crashes = 0;
  private snapshotsInstalled = 0;

  // checker state
  private readonly leaders = new Map<number, number>();
  private maxLeaderEpoch = -1;
  /** (lastOffset@epoch) -> prefix digest, over every batch ever durable anywhere. */
  private readonly logKeys = new Map<string, string>();
  /** Reference committed sequence: end offset -> prefix digest and state machine digest. */
  private readonly committed = new Map<number, { readonly chain: string; readonly content: string }>();
  private committedEnd = 0;
  private readonly refSm = new KvStateMachine();

  constructor(private readonly options: ScheduleOptions) {
    this.rng = new Prng(options.seed);
    this.printTrace = options.trace === true;
    const r = this.rng;
    const voterCount = [1, 3, 3, 5, 5][options.seed % 5]!;
    this.voterIds = Array.from({ length: voterCount }, (_, i) => i + 1);
    this.lossRate = r.pick([0, 0.02, 0.1, 0.25]);
    this.duplicateRate = r.pick([0, 0.02, 0.1]);
    this.delayMinMs = r.int(0, 5);
    this.delayMaxMs = this.delayMinMs + r.pick([1, 10, 50, 300]);
    this.maxSyncDelayMs = r.pick([0, 2, 20]);
    this.faultIntervalMs = r.pick([300, 1000, 3000]);
    this.proposeIntervalMs = r.pick([10, 50, 200]);
    this.config = {
      requestTimeoutMs: r.pick([300, 1000, 2000]),
      fetchMaxBytes: r.pick([40, 300, 4096]),
      maxUncommittedBytes: r.pick([1000, 5000]),
      snapshotMinBytes: r.pick([100, 600, 5000]),
      snapshotIntervalMs: r.pick([0, 5000]),
    };
    this.committed.set(0, { chain: '', content: this.refSm.contentDigest() });
    const ids = [...this.voterIds];
    if (voterCount > 1 && r.chance(0.3)) ids.push(OBSERVER_ID);
    for (const id of ids) {
      const node: SimNode = {
        id,
        voter: id !== OBSERVER_ID,
        storage: new MemoryRaftStorage({
          digest: prefixDigest,
          snapshotDigest: (bytes) => KvStateMachine.snapshotChain(bytes),
          onDurable: (batch, digest) => this.noteDurableBatch(batch, digest),
        }),
        raft: undefined,
        sm: undefined,
        incarnation: 0,
        pending: [],
        syncScheduled: false,
        checkedApplied: -1,
        checkedCommit: -1,
      };
      this.nodes.push(node);
    }
    for (const node of this.nodes) this.start(node);
    this.queue.push(this.faultIntervalMs, { kind: 'fault' });
    this.queue.push(this.proposeIntervalMs, { kind: 'propose' });
  }

  /** Runs the schedule: faults for a while, then healing and the liveness check. */
  run(): ScheduleResult {
    try {
      const chaosMs = this.rng.int(5_000, 20_000);
      this.runUntil(() => this.now >= chaosMs);
      this.heal();
      // Within a bounded time a leader is elected, a proposal commits and every node applies it.
      // The bound is 60 s plus what the backlog needs on this network (with a small
      // fetchMaxBytes, one batch per round trip).
      const behind = Math.max(...this.nodes.map((n) => n.storage.endOffset())) - Math.min(...this.nodes.map((n) => n.sm!.applied));
      const roundTripMs = 2 * (this.delayMaxMs + this.maxSyncDelayMs + 1);
      const deadlineMs = this.now + 60_000 + behind * roundTripMs;
      const marker = this.commitMarker(deadlineMs);
      this.runUntil(() => this.nodes.every((n) => n.sm !== undefined && n.sm.applied > marker), deadlineMs);
      this.check();
      return {
        seed: this.options.seed,
        voters: this.voterIds.length,
        events: this.events,
        elections: this.leaders.size,
        committedOffset: this.committedEnd,
        crashes: this.crashes,
        snapshotsInstalled: this.snapshotsInstalled,
      };
    } catch (err) {
      const seed = this.options.seed;
      const tail = this.trace.slice(-40).join('\n');
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      throw new SimulationFailure(
        `seed=${seed} failed at t=${this.now}ms after ${this.events} events: ${message}\n` +
          `reproduce: RAFT_SIM_SEED=${seed} node --test dist/src/controller/raft/raft-simulation.test.js (add RAFT_SIM_TRACE=1 for every event)\n` +
          `last events:\n${tail}`,
      );
    }
  }

  // ---- event loop

  private runUntil(done: () => boolean, deadlineMs = Infinity): void {
    while (!done()) {
      if (this.now > deadlineMs) throw new Error(`liveness: not done by t=${deadlineMs}ms; ${this.describe()}`);
      if (++this.events > MAX_EVENTS) throw new Error(`more than ${MAX_EVENTS} events: ${this.describe()}`);
      this.step();
      this.check();
    }
  }

  private step(): void {
    let tickAt = Infinity;
    let tickNode: SimNode | undefined;
    for (const n of this.nodes) {
      if (n.raft === undefined) continue;
      const t = n.raft.nextDeadlineMs();
      if (t < tickAt) [tickAt, tickNode] = [t, n];
    }
    const queueAt = this.queue.peekTime();
    if (tickNode !== undefined && tickAt < queueAt) {
      if (tickAt <= this.now && this.lastTick.node === tickNode.id && this.lastTick.at === this.now) {
        if (++this.lastTick.repeats > 100) throw new Error(`node ${tickNode.id}: a timer due at ${tickAt} fires without effect`);
      } else {
        this.lastTick = { node: tickNode.id, at: Math.max(this.now, tickAt), repeats: 0 };
      }
      this.now = Math.max(this.now, tickAt);
      this.log(`tick ${tickNode.id}`);
      tickNode.raft!.tick(this.now);
      this.drain(tickNode);
      return;
    }
    if (queueAt === Infinity) throw new Error('nothing left to happen');
    const { t, e } = this.queue.pop();
    this.now = Math.max(this.now, t);
    switch (e.kind) {
      case 'deliver':
        this.deliver(e.message);
        return;
      case 'sync':
        this.sync(e.node, e.incarnation);
        return;
      case 'fault':
        if (this.faultsOn) {
          this.injectFault();
          this.queue.push(this.now + this.rng.int(1, 2 * this.faultIntervalMs), { kind: 'fault' });
        }
        return;
      case 'wake':
        return;
      case 'propose':
        if (this.faultsOn) {
          this.proposeSomewhere();
          this.queue.push(this.now + this.rng.int(1, 2 * this.proposeIntervalMs), { kind: 'propose' });
        }
        return;
    }
  }

  private node(id: number): SimNode {
    return this.nodes.find((n) => n.id === id)!;
  }

  // ---- nodes

  private start(node: SimNode): void {
    node.incarnation += 1;
    const storage = node.storage;
    node.sm = new KvStateMachine();
    node.checkedApplied = -1;
    node.checkedCommit = -1;
    const electionState = storage.electionState();
    const nodeRng = this.rng.fork();
    node.raft = new RaftNode({
      nodeId: node.id,
      voters: this.voterIds,
      config: this.config,
      log: storage,
      ...(electionState !== undefined ? { electionState } : {}),
      random: () => nodeRng.next(),
      nowMs: this.now,
      firstCorrelationId: node.incarnation * 1_000_000_000,
    });
    this.log(`start ${node.id} (incarnation ${node.incarnation}) ${JSON.stringify(node.raft.status())}`);
    this.drain(node);
  }

  private crash(node: SimNode): void {
    const unsynced = node.storage.unsyncedCount();
    const keep = this.rng.pick([0, unsynced, this.rng.int(0, unsynced + 1)]);
    const lost = node.storage.crash(keep);
    this.log(`crash ${node.id}: kept ${keep} of ${unsynced} unsynced writes, lost ${lost}`);
    node.raft = undefined;
    node.sm = undefined;
    node.pending = [];
    node.syncScheduled = false;
    this.crashes += 1;
  }

  /** Takes every Ready and writes its state and log operations (unsynced). */
  private drain(node: SimNode): void {
    const raft = node.raft!;
    for (let r = raft.ready(); r !== undefined; r = raft.ready()) {
      if (r.electionState !== undefined) node.storage.write({ type: 'electionState', state: r.electionState });
      for (const op of r.logOps) {
        if (op.type === 'installSnapshot') this.snapshotsInstalled += 1;
        node.storage.write(op);
      }
      node.pending.push(r);
    }
    if (node.pending.length > 0 && !node.syncScheduled) {
      node.syncScheduled = true;
      const delay = this.maxSyncDelayMs === 0 ? 0 : this.rng.int(0, this.maxSyncDelayMs + 1);
      this.queue.push(this.now + delay, { kind: 'sync', node: node.id, incarnation: node.incarnation });
    }
  }

  /** The fsync completes: messages go out, committed entries apply, `persisted` is called. */
  private sync(id: number, incarnation: number): void {
    const node = this.node(id);
    if (node.raft === undefined || node.incarnation !== incarnation) return;
    node.syncScheduled = false;
    node.storage.sync();
    const readys = node.pending;
    node.pending = [];
    this.log(`sync ${id}: ${readys.length} readys`);
    for (const r of readys) {
      for (const m of r.messages) this.send(m);
      for (const c of r.committed) this.apply(node, c);
      if (r.snapshotRequest !== undefined) this.snapshot(node, r.snapshotRequest);
      node.raft.persisted(r.seq);
    }
    this.drain(node);
  }

  private apply(node: SimNode, c: Committed): void {
    const sm = node.sm!;
    if (c.type === 'snapshot') sm.load(node.storage.snapshotBytes(c.snapshotId));
    else sm.apply(c.batch);
  }

  private snapshot(node: SimNode, id: SnapshotId): void {
    const sm = node.sm!;
    if (sm.applied !== id.endOffset) throw new Error(`node ${node.id}: snapshot requested at ${id.endOffset}, state machine at ${sm.applied}`);
    node.storage.writeSnapshot(id, sm.snapshot());
    this.log(`snapshot ${node.id} at ${id.endOffset}-${id.epoch}`);
    node.raft!.snapshotCreated(id, this.now);
  }

  // ---- network

  private send(message: RaftMessage): void {
    const m = this.options.sabotage === 'forgeVoteGrants' && message.type === 'voteResponse' ? { ...message, voteGranted: true } : message;
    if (this.cut.has(`${m.from}>${m.to}`) || this.rng.chance(this.lossRate)) {
      this.log(`drop ${describeMessage(m)}`);
      return;
    }
    const copies = this.rng.chance(this.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.queue.push(this.now + this.rng.int(this.delayMinMs, this.delayMaxMs + 1), { kind: 'deliver', message: m });
    }
  }

  private deliver(m: RaftMessage): void {
    const node = this.node(m.to);
    if (node.raft === undefined || this.cut.has(`${m.from}>${m.to}`)) return;
    this.log(`deliver ${describeMessage(m)}`);
    node.raft.step(m, this.now);
    this.drain(node);
  }

  // ---- faults and clients

  private injectFault(): void {
    const r = this.rng;
    const live = this.nodes.filter((n) => n.raft !== undefined);
    const down = this.nodes.filter((n) => n.raft === undefined);
    const choice = r.int(0, 10);
    if (choice <= 1 && live.length > 0) {
      this.crash(r.pick(live));
    } else if (choice <= 3 && down.length > 0) {
      this.start(r.pick(down));
    } else if (choice === 4) {
      const victim = r.pick(this.nodes).id;
      for (const n of this.nodes) if (n.id !== victim) [`${victim}>${n.id}`, `${n.id}>${victim}`].forEach((l) => this.cut.add(l));
      this.log(`isolate ${victim}`);
    } else if (choice === 5) {
      const side = new Set(this.nodes.filter(() => r.chance(0.5)).map((n) => n.id));
      for (const a of this.nodes) for (const b of this.nodes) if (side.has(a.id) !== side.has(b.id)) this.cut.add(`${a.id}>${b.id}`);
      this.log(`split ${[...side].join(',')} | rest`);
    } else if (choice === 6) {
      const a = r.pick(this.nodes).id;
      const b = r.pick(this.nodes).id;
      if (a !== b) this.cut.add(`${a}>${b}`);
      this.log(`cut ${a}>${b}`);
    } else if (choice <= 8) {
      this.cut.clear();
      this.log('heal links');
    } else {
      const leader = live.find((n) => n.raft!.status().role === 'leader');
      if (leader !== undefined) {
        this.log(`resign ${leader.id}`);
        leader.raft!.resign(this.now);
        this.drain(leader);
      }
    }
  }

  private proposeSomewhere(): void {
    const live = this.nodes.filter((n) => n.raft !== undefined);
    if (live.length === 0) return;
    let target = this.rng.pick(live);
    for (let hop = 0; hop < 2; hop++) {
      const result = this.propose(target);
      if (result === undefined || result.status !== 'notLeader') return;
      const next = this.nodes.find((n) => n.id === result.leader.leaderId && n.raft !== undefined);
      if (next === undefined) return;
      target = next;
    }
  }

  private propose(node: SimNode): ReturnType<RaftNode['propose']> | undefined {
    const id = `p${++this.proposalCounter}`;
    const cmd: KvCommand = { id, k: this.rng.int(0, 8), v: this.rng.int(0, 1000) };
    const recordCount = this.rng.int(1, 4);
    const result = node.raft!.propose({ data: Buffer.from(JSON.stringify(cmd)), recordCount }, this.now);
    this.log(`propose ${id} to ${node.id}: ${JSON.stringify(result)}`);
    this.drain(node);
    return result;
  }

  private heal(): void {
    this.faultsOn = false;
    this.cut.clear();
    this.lossRate = 0;
    this.duplicateRate = 0;
    for (const n of this.nodes) if (n.raft === undefined) this.start(n);
    this.log('heal: faults off, all links up, every node running');
  }

  /** Proposes a marker once a leader exists; returns its last offset once it commits. */
  private commitMarker(deadlineMs: number): number {
    let marker: { node: SimNode; lastOffset: number; epoch: number } | undefined;
    let retryAt = this.now;
    this.runUntil(() => {
      if (marker !== undefined) {
        const s = marker.node.raft!.status();
        if (s.highWatermark > marker.lastOffset && s.epoch === marker.epoch) return true;
        if (s.role !== 'leader' || s.epoch !== marker.epoch) marker = undefined; // leadership moved: again
      }
      if (marker === undefined && this.now >= retryAt) {
        const leader = this.nodes.find((n) => n.raft !== undefined && n.raft.status().role === 'leader');
        if (leader !== undefined) {
          const result = this.propose(leader);
          if (result?.status === 'appended') marker = { node: leader, lastOffset: result.lastOffset, epoch: result.epoch };
        }
        retryAt = this.now + 100;
        this.queue.push(retryAt, { kind: 'wake' });
      }
      return false;
    }, deadlineMs);
    this.log(`marker committed at ${marker!.lastOffset}`);
    return marker!.lastOffset;
  }

  // ---- the checker

  /**
   * Storage hook, for log matching: every batch that becomes durable anywhere. (A write lost in
   * a crash was never sent or counted, persist before send, so it was in no log anyone saw.)
   */
  private noteDurableBatch(batch: RaftBatch, digest: string): void {
    // Keyed by both ends, so that batches of one epoch cut at other offsets also differ.
    for (const offset of [batch.baseOffset, batch.lastOffset]) {
      const key = `${offset}@${batch.epoch}`;
      const seen = this.logKeys.get(key);
      if (seen === undefined) this.logKeys.set(key, digest);
      else if (seen !== digest) throw new Error(`log matching: two logs hold offset ${offset} in epoch ${batch.epoch} with different prefixes`);
    }
  }

  private check(): void {
    for (const n of this.nodes) n.raft?.assertStorageMatches();
    // The committed sequence only grows, and every node's committed prefix is a prefix of it.
    for (const n of [...this.nodes].sort((a, b) => (b.raft?.status().highWatermark ?? -1) - (a.raft?.status().highWatermark ?? -1))) {
      if (n.raft === undefined) continue;
      const hw = n.raft.status().highWatermark;
      if (hw === n.checkedCommit) continue;
      if (hw < n.checkedCommit) throw new Error(`node ${n.id}: high watermark went back from ${n.checkedCommit} to ${hw}`);
      if (hw > this.committedEnd) this.extendCommitted(n, hw);
      const ref = this.committed.get(hw);
      if (ref === undefined) throw new Error(`node ${n.id}: high watermark ${hw} is not a batch boundary of the committed sequence`);
      const mine = n.storage.digestAt(hw);
      if (mine !== ref.chain) throw new Error(`node ${n.id}: committed prefix up to ${hw} differs from the committed sequence`);
      n.checkedCommit = hw;
    }
    // One leader per epoch; a new leader holds everything committed so far.
    for (const n of this.nodes) {
      if (n.raft === undefined) continue;
      const s = n.raft.status();
      if (s.role !== 'leader') continue;
      const known = this.leaders.get(s.epoch);
      if (known === undefined) {
        this.leaders.set(s.epoch, n.id);
        this.maxLeaderEpoch = Math.max(this.maxLeaderEpoch, s.epoch);
        this.log(`leader ${n.id} of epoch ${s.epoch}`);
        this.expectHoldsCommitted(n, 'new leader');
      } else if (known !== n.id) {
        throw new Error(`two leaders in epoch ${s.epoch}: ${known} and ${n.id}`);
      }
    }
    // Committed means durable on a majority of voters.
    const endRef = this.committed.get(this.committedEnd)!;
    let durable = 0;
    for (const n of this.nodes) if (n.voter && n.storage.durableDigestAt(this.committedEnd) === endRef.chain) durable++;
    if (durable < Math.floor(this.voterIds.length / 2) + 1) {
      throw new Error(`committed offset ${this.committedEnd} is durable on only ${durable} of ${this.voterIds.length} voters`);
    }
    // The leader of the highest epoch so far holds everything committed while it leads.
    const top = this.leaders.get(this.maxLeaderEpoch);
    if (top !== undefined) {
      const n = this.node(top);
      const s = n.raft?.status();
      if (s !== undefined && s.role === 'leader' && s.epoch === this.maxLeaderEpoch) this.expectHoldsCommitted(n, 'leader of the highest epoch');
    }
    // Replayed images equal the reference at the same offset.
    for (const n of this.nodes) {
      const sm = n.sm;
      if (sm === undefined || sm.applied === n.checkedApplied) continue;
      const ref = this.committed.get(sm.applied);
      if (ref === undefined) throw new Error(`node ${n.id}: applied offset ${sm.applied} is not in the committed sequence (ends at ${this.committedEnd})`);
      if (sm.chain !== ref.chain) throw new Error(`node ${n.id}: applied sequence up to ${sm.applied} differs from the committed sequence`);
      if (sm.contentDigest() !== ref.content) throw new Error(`node ${n.id}: state machine image at ${sm.applied} differs from the reference image`);
      n.checkedApplied = sm.applied;
    }
  }

  private expectHoldsCommitted(n: SimNode, who: string): void {
    const ref = this.committed.get(this.committedEnd)!;
    if (n.storage.digestAt(this.committedEnd) !== ref.chain) {
      throw new Error(`leader completeness: ${who} ${n.id} (epoch ${n.raft!.status().epoch}) lacks committed entries up to ${this.committedEnd}`);
    }
  }

  /**
   * Appends the batches in (committedEnd, hw] to the reference committed sequence, read from
   * `n`'s log — or, when `n` installed a snapshot past committedEnd, from a log that has them.
   */
  private extendCommitted(n: SimNode, hw: number): void {
    const start = this.committed.get(this.committedEnd)!;
    const holds = (m: SimNode): boolean => m.storage.digestAt(this.committedEnd) === start.chain && m.storage.digestAt(hw) !== undefined;
    const source = holds(n) ? n : this.nodes.find((m) => holds(m) && m.storage.digestAt(hw) === n.storage.digestAt(hw));
    if (source === undefined) {
      throw new Error(`node ${n.id}: commits up to ${hw}, but no log holds the committed sequence at ${this.committedEnd} followed by its prefix`);
    }
    for (const b of source.storage.read(this.committedEnd, Infinity)) {
      if (b.baseOffset >= hw) break;
      this.refSm.apply(b);
      this.committed.set(b.lastOffset + 1, { chain: this.refSm.chain, content: this.refSm.contentDigest() });
    }
    if (this.refSm.applied !== hw) throw new Error(`node ${n.id}: high watermark ${hw} is not a batch boundary of its log`);
    this.committedEnd = hw;
  }

  // ---- tracing

  private log(line: string): void {
    const entry = `t=${this.now} ${line}`;
    if (this.printTrace) console.log(entry);
    this.trace.push(entry);
    if (this.trace.length > 200) this.trace.splice(0, 100);
  }

  private describe(): string {
    return this.nodes.map((n) => (n.raft === undefined ? `${n.id}:down` : `${n.id}:${JSON.stringify(n.raft.status())}`)).join(' ');
  }
}

function describeMessage(m: RaftMessage): string {
  const base = `${m.type} ${m.from}->${m.to}#${m.correlationId}`;
  switch (m.type) {
    case 'voteRequest':
      return `${base} epoch=${m.candidateEpoch} pre=${m.preVote} last=${m.lastOffset}@${m.lastOffsetEpoch}`;
    case 'voteResponse':
      return `${base} granted=${m.voteGranted} epoch=${m.leaderEpoch} leader=${m.leaderId} pre=${m.preVote} err=${m.errorCode}`;
    case 'fetchRequest':
      return `${base} epoch=${m.currentLeaderEpoch} at=${m.fetchOffset}@${m.lastFetchedEpoch}`;
    case 'fetchResponse':
      return `${base} err=${m.errorCode} leader=${m.currentLeader.leaderId}@${m.currentLeader.epoch} hw=${m.highWatermark} for=${m.fetchOffset}@${m.lastFetchedEpoch} records=${m.records.length}${m.divergingEpoch ? ` diverging=${m.divergingEpoch.offset}@${m.divergingEpoch.epoch}` : ''}${m.snapshotId ? ` snapshot=${m.snapshotId.endOffset}@${m.snapshotId.epoch}` : ''}`;
    case 'fetchSnapshotRequest':
      return `${base} snapshot=${m.snapshotId.endOffset}@${m.snapshotId.epoch} pos=${m.position}`;
    case 'fetchSnapshotResponse':
      return `${base} err=${m.errorCode} pos=${m.position} bytes=${m.bytes.length}/${m.size}`;
    default:
      return `${base} epoch=${m.leaderEpoch} leader=${m.leaderId}`;
  }
}

/** Runs one seeded schedule; throws SimulationFailure naming the seed when a property breaks. */
export function runSchedule(options: ScheduleOptions): ScheduleResult {
  return new RaftSimulation(options).run();
}
