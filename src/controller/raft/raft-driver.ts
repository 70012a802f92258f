// RaftDriver: runs one RaftNode (the pure KRaft core, raft-node.ts) against the real world: a
// storage (DiskRaftStorage on `__cluster_metadata-0`), a transport (RaftTransport: in memory for
// tests, KRaft RPCs over TCP in raft-tcp-transport.ts), a clock, a random source and one timer.
//
// Public API (for a RaftMetadataLogClient and the node's composition root):
//
//   const driver = new RaftDriver({ nodeId, voters, config, storage, transport, clock?, random?,
//                                   timers?, snapshotSource?, log? });
//   driver.onCommitted((c) => ...);       // register before start(): every committed item, in
//                                         // log order, exactly once per incarnation
//   driver.onLeaderChange((l) => ...);    // {leaderId, epoch} whenever it changes (-1: unknown)
//   driver.start();                       // builds the RaftNode from storage (contract item 4)
//   const { baseOffset, lastOffset, epoch } = await driver.propose(batchBytes, recordCount, { expectedEpoch });
//   await driver.describeQuorum();        // DescribeQuorum's partition data, or { notLeader }
//   driver.status();                      // role, epoch, leader, high watermark, log offsets
//   await driver.resign();                // a leader hands over (EndQuorumEpoch) and stays up
//   driver.close();                       // stops: no more inputs, pending proposals rejected
//
// Committed items (`CommittedItem`):
//   - { type: 'batch', batch }: `batch.data` is the record batch as stored (baseOffset and
//     partitionLeaderEpoch set); `batch.control` is set for the LeaderChange control batch each
//     new leader writes first. A leader may plan on its state once the LeaderChange of its own
//     epoch is committed: everything before it is committed and applied by then.
//   - { type: 'snapshot', snapshotId, records }: replace the state with the snapshot's records
//     (the value of every data record of the `.checkpoint` file, in order). The first item after
//     start() is this when the storage has a snapshot.
//
// propose(): `batchBytes` is one record batch of `recordCount` records (encodeRecordBatch at
// offset 0); the driver takes ownership and patches its baseOffset and partitionLeaderEpoch. It
// resolves once the batch is committed (in proposal order). It rejects with a KafkaError:
//   NOT_CONTROLLER      not the leader (or not of `expectedEpoch`); or leadership was lost before
//                       the batch committed: its fate is then unknown here — the next leader may
//                       still commit it, and it then comes through onCommitted like any batch
//                       (Kafka's QuorumController fails its pending writes the same way);
//   MESSAGE_TOO_LARGE   the batch is larger than the core's maxBatchBytes;
//   REQUEST_TIMED_OUT   too many bytes appended and not committed yet, or the input queue is full
//                       (retriable: try again once the quorum catches up).
//
// Snapshots: with `snapshotSource`, when the core asks for a snapshot (every
// metadata.log.max.record.bytes.between.snapshots applied bytes, or
// metadata.log.max.snapshot.interval.ms) the driver calls it right after applying up to the
// snapshot's end offset and writes the answer as a `.checkpoint` file; without one, no snapshots
// are taken (the log grows unbounded, but followers still install the leader's snapshots).
//
// How it runs (the contract at the top of raft-node.ts): every input (a message, a timer tick, a
// proposal, resign, describe) goes into one bounded serial queue, drained in a microtask so that
// inputs arriving together share one fsync. Per drain round: each input is given to the core and
// every Ready it produces is written to storage (quorum-state, log operations) before the next
// input; then one sync; then, Ready by Ready in order: send its messages, apply its committed
// items, take the requested snapshot, persisted(seq); then snapshotCreated. Rounds repeat until
// the core has nothing more. A single timer is armed at nextDeadlineMs() (no polling).
//
// Threading: one event loop; listeners run inside the drain (they may call propose(), which is
// queued behind the current round). A listener that throws is a programmer error and stops the
// driver (`failed`): its state would no longer match the log.
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { RaftConfig } from './quorum-config.js';
import { raftBatchBytes } from './raft-batch-codec.js';
import { assert, type RaftLogView } from './raft-log.js';
import { RaftNode, type QuorumDescription, type RaftStatus, type Ready } from './raft-node.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot-file.js';
import type { ElectionState, LeaderAndEpoch, RaftBatch, RaftMessage, SnapshotId } from './types.js';
import type { LogOp } from './raft-log.js';
import { NO_REPLICA } from './types.js';

/** What the driver needs of storage; DiskRaftStorage implements it. */
export interface RaftStorage extends RaftLogView {
  electionState(): ElectionState | undefined;
  /** Durable when it returns. */
  writeElectionState(state: ElectionState): void;
  /** Written when it returns, durable after the next sync(). */
  applyLogOp(op: LogOp): void;
  sync(): void;
  /** Durable and complete when it returns. */
  writeSnapshot(id: SnapshotId, bytes: Buffer): void;
  snapshotBytes(id: SnapshotId): Buffer;
}

/** Carries the core's messages between nodes. Responses echo the request's correlation id. */
export interface RaftTransport {
  /** Sends `message` to node `message.to`; never throws (a message may be lost). */
  send(message: RaftMessage): void;
  /** Where messages addressed to this node go (set once, by the driver's start()). */
  setHandler(handler: (message: RaftMessage) => void): void;
}

export interface RaftTimers {
  setTimeout(fn: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type CommittedItem =
  | { readonly type: 'batch'; readonly batch: RaftBatch }
  | { readonly type: 'snapshot'; readonly snapshotId: SnapshotId; readonly records: readonly Buffer[] };

export interface ProposeOutcome {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly epoch: number;
}

export interface RaftDriverLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface RaftDriverOptions {
  readonly nodeId: number;
  readonly voters: readonly number[];
  readonly config?: Partial<RaftConfig>;
  readonly storage: RaftStorage;
  readonly transport: RaftTransport;
  /** Milliseconds; wall time is fine (the driver never lets it go back). Default Date.now. */
  readonly clock?: () => number;
  /** Uniform in [0, 1). Default Math.random. */
  readonly random?: () => number;
  readonly timers?: RaftTimers;
  /** The state machine's state as record values, batch by batch, for a snapshot at `id`. */
  readonly snapshotSource?: (id: SnapshotId) => ReadonlyArray<ReadonlyArray<Buffer>>;
  readonly log?: RaftDriverLog;
}

/** Inputs waiting in the queue beyond this are refused (messages dropped, proposals rejected). */
export const MAX_QUEUED_INPUTS = 10_000;
/** Proposals appended and not yet committed; each is also bounded by the core's byte limit. */
const MAX_PENDING_PROPOSALS = 100_000;
/** Inputs fed per drain round before the round's sync: bounds the latency of the first. */
const MAX_INPUTS_PER_ROUND = 1000;
/** Guard against a core that never stops producing Readys within one drain. */
const MAX_ROUNDS_PER_DRAIN = 10_000;

type Input =
  | { readonly type: 'tick' }
  | { readonly type: 'message'; readonly message: RaftMessage }
  | { readonly type: 'propose'; readonly data: Buffer; readonly recordCount: number; readonly expectedEpoch: number | undefined; readonly resolve: (o: ProposeOutcome) => void; readonly reject: (e: Error) => void }
  | { readonly type: 'resign'; readonly resolve: (resigned: boolean) => void }
  | { readonly type: 'describe'; readonly resolve: (d: QuorumDescription | { readonly notLeader: LeaderAndEpoch }) => void };

interface PendingProposal {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly epoch: number;
  readonly resolve: (o: ProposeOutcome) => void;
  readonly reject: (e: Error) => void;
}

const realTimers: RaftTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class RaftDriver {
  readonly nodeId: number;
  private readonly opts: RaftDriverOptions;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly timers: RaftTimers;
  private core: RaftNode | undefined;
  private lastNowMs = -Infinity;

  private readonly queue: Input[] = [];
  private drainScheduled = false;
  private draining = false;
  private closed = false;
  /** Set when a listener or storage failed: the driver stopped and says why. */
  failed: Error | undefined;

  private timer: unknown;
  private timerAtMs = Infinity;

  private readonly pending: PendingProposal[] = [];
  private readonly committedListeners: Array<(c: CommittedItem) => void> = [];
  private readonly leaderListeners: Array<(l: LeaderAndEpoch) => void> = [];
  private leader: LeaderAndEpoch = { leaderId: NO_REPLICA, epoch: -1 };
  private lastAppliedAppendTimeMs = -1;

  constructor(opts: RaftDriverOptions) {
    this.opts = opts;
    this.nodeId = opts.nodeId;
    this.clock = opts.clock ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.timers = opts.timers ?? realTimers;
  }

  onCommitted(listener: (c: CommittedItem) => void): () => void {
    this.committedListeners.push(listener);
    return () => {
      const i = this.committedListeners.indexOf(listener);
      if (i >= 0) this.committedListeners.splice(i, 1);
    };
  }

  onLeaderChange(listener: (l: LeaderAndEpoch) => void): () => void {
    this.leaderListeners.push(listener);
    return () => {
      const i = this.leaderListeners.indexOf(listener);
      if (i >= 0) this.leaderListeners.splice(i, 1);
    };
  }

  /** Builds the core from storage (contract item 4) and processes its first Readys. */
  start(): void {
    assert(this.core === undefined, `raft driver ${this.nodeId} started twice`);
    const electionState = this.opts.storage.electionState();
    this.core = new RaftNode({
      nodeId: this.nodeId,
      voters: this.opts.voters,
      ...(this.opts.config !== undefined ? { config: this.opts.config } : {}),
      log: this.opts.storage,
      ...(electionState !== undefined ? { electionState } : {}),
      random: this.random,
      nowMs: this.now(),
    });
    this.opts.transport.setHandler((m) => this.receive(m));
    this.drain();
  }

  /** The leader this node knows (leaderId -1 when none), as last reported to listeners. */
  leaderAndEpoch(): LeaderAndEpoch {
    return this.leader;
  }

  status(): RaftStatus {
    return this.started().status();
  }

  propose(data: Buffer, recordCount: number, opts: { readonly expectedEpoch?: number } = {}): Promise<ProposeOutcome> {
    return new Promise((resolve, reject) => {
      if (!this.enqueue({ type: 'propose', data, recordCount, expectedEpoch: opts.expectedEpoch, resolve, reject })) {
        reject(this.closed ? this.closedError() : new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `the metadata quorum's input queue is full (${MAX_QUEUED_INPUTS})`));
      }
    });
  }

  describeQuorum(): Promise<QuorumDescription | { readonly notLeader: LeaderAndEpoch }> {
    return new Promise((resolve, reject) => {
      if (!this.enqueue({ type: 'describe', resolve })) reject(this.closed ? this.closedError() : new KafkaError(ErrorCode.REQUEST_TIMED_OUT, 'the metadata quorum is busy'));
    });
  }

  /** A leader resigns (sends EndQuorumEpoch to the others); false when it was not leading. */
  resign(): Promise<boolean> {
    return new Promise((resolve) => {
      if (!this.enqueue({ type: 'resign', resolve })) resolve(false);
    });
  }

  /** Stops for good: the timer goes, queued inputs and pending proposals are rejected. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    const err = this.closedError();
    for (const input of this.queue.splice(0)) this.refuse(input, err);
    for (const p of this.pending.splice(0)) p.reject(err);
  }

  // ------------------------------------------------------------------------------------------

  private started(): RaftNode {
    assert(this.core !== undefined, `raft driver ${this.nodeId} not started`);
    return this.core;
  }

  private closedError(): KafkaError {
    return new KafkaError(ErrorCode.NOT_CONTROLLER, this.failed !== undefined ? `the metadata quorum driver of node ${this.nodeId} failed: ${this.failed.message}` : `the metadata quorum driver of node ${this.nodeId} is closed`);
  }

  /** Monotonic milliseconds from the injected clock. */
  private now(): number {
    const t = this.clock();
    if (t > this.lastNowMs) this.lastNowMs = t;
    return this.lastNowMs;
  }

  private receive(message: RaftMessage): void {
    if (message.to !== this.nodeId) {
      this.opts.log?.warn({ nodeId: this.nodeId, to: message.to, type: message.type }, 'raft message for another node dropped');
      return;
    }
    this.enqueue({ type: 'message', message }); // a full queue drops it: the core tolerates loss
  }

  private enqueue(input: Input): boolean {
    if (this.closed || this.queue.length >= MAX_QUEUED_INPUTS) return false;
    this.queue.push(input);
    if (!this.drainScheduled && !this.draining) {
      this.drainScheduled = true;
      queueMicrotask(() => {
        this.drainScheduled = false;
        this.drain();
      });
    }
    return true;
  }

  private refuse(input: Input, err: Error): void {
    if (input.type === 'propose') input.reject(err);
    else if (input.type === 'resign') input.resolve(false);
    else if (input.type === 'describe') input.resolve({ notLeader: this.leader });
  }

  private drain(): void {
    if (this.draining || this.closed || this.core === undefined) return;
    this.draining = true;
    try {
      this.drainRounds(this.core);
    } catch (err) {
      // A storage failure or a broken listener: the driver cannot keep its contract any more.
      this.failed = err as Error;
      this.opts.log?.warn({ nodeId: this.nodeId, err }, 'raft driver stopped');
      this.close();
      return;
    } finally {
      this.draining = false;
    }
    this.armTimer();
  }

  private drainRounds(core: RaftNode): void {
    for (let round = 0; ; round++) {
      assert(round < MAX_ROUNDS_PER_DRAIN, `raft driver ${this.nodeId}: ${MAX_ROUNDS_PER_DRAIN} rounds in one drain`);
      const readys: Ready[] = [];
      this.collect(core, readys); // what persisted()/snapshotCreated() of the last round produced
      for (let n = 0; n < MAX_INPUTS_PER_ROUND && this.queue.length > 0 && !this.closed; n++) {
        this.feed(core, this.queue.shift()!);
        this.collect(core, readys);
      }
      if (readys.length === 0) break;
      if (readys.some((r) => r.logOps.length > 0)) this.opts.storage.sync();
      const created: SnapshotId[] = [];
      for (const r of readys) {
        for (const m of r.messages) this.opts.transport.send(m);
        for (const c of r.committed) this.apply(c);
        if (r.snapshotRequest !== undefined && this.takeSnapshot(r.snapshotRequest)) created.push(r.snapshotRequest);
        core.persisted(r.seq);
      }
      for (const id of created) core.snapshotCreated(id, this.now());
      this.checkLeadership(core);
      if (this.closed) return;
    }
    this.checkLeadership(core);
  }

  /** Takes every Ready and writes it (contract 2a); the sync comes once per round. */
  private collect(core: RaftNode, into: Ready[]): void {
    for (let r = core.ready(); r !== undefined; r = core.ready()) {
      if (r.electionState !== undefined) this.opts.storage.writeElectionState(r.electionState);
      for (const op of r.logOps) this.opts.storage.applyLogOp(op);
      into.push(r);
    }
  }

  private feed(core: RaftNode, input: Input): void {
    const now = this.now();
    switch (input.type) {
      case 'tick':
        core.tick(now);
        return;
      case 'message':
        core.step(input.message, now);
        return;
      case 'resign':
        input.resolve(core.resign(now));
        return;
      case 'describe':
        input.resolve(core.describeQuorum(now));
        return;
      case 'propose': {
        if (this.pending.length >= MAX_PENDING_PROPOSALS) {
          input.reject(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `${MAX_PENDING_PROPOSALS} metadata batches are waiting to commit`));
          return;
        }
        const r = core.propose({ data: input.data, recordCount: input.recordCount }, now, input.expectedEpoch);
        switch (r.status) {
          case 'appended':
            this.pending.push({ baseOffset: r.baseOffset, lastOffset: r.lastOffset, epoch: r.epoch, resolve: input.resolve, reject: input.reject });
            return;
          case 'notLeader':
            input.reject(notController(this.nodeId, r.leader, input.expectedEpoch));
            return;
          case 'batchTooLarge':
            input.reject(new KafkaError(ErrorCode.MESSAGE_TOO_LARGE, `a metadata batch of ${input.data.length} bytes is larger than ${r.maxBatchBytes}`));
            return;
          case 'backlogFull':
            input.reject(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `more than ${r.maxUncommittedBytes} bytes of metadata are waiting to commit`));
            return;
        }
      }
    }
  }

  private apply(c: Ready['committed'][number]): void {
    let item: CommittedItem;
    if (c.type === 'snapshot') {
      const bytes = this.opts.storage.snapshotBytes(c.snapshotId);
      const decoded = decodeSnapshot(bytes, `snapshot ${c.snapshotId.endOffset}-${c.snapshotId.epoch}`);
      this.lastAppliedAppendTimeMs = Number(decoded.lastContainedLogTimestampMs);
      item = { type: 'snapshot', snapshotId: c.snapshotId, records: decoded.records };
      this.opts.log?.info({ nodeId: this.nodeId, endOffset: c.snapshotId.endOffset, epoch: c.snapshotId.epoch, records: decoded.records.length, bytes: bytes.length }, 'loading a metadata snapshot');
      // Whatever was pending below the snapshot's end: its fate is in the snapshot, not known here.
      while (this.pending.length > 0 && this.pending[0]!.baseOffset < c.snapshotId.endOffset) {
        this.pending.shift()!.reject(new KafkaError(ErrorCode.NOT_CONTROLLER, `node ${this.nodeId} installed a snapshot at ${c.snapshotId.endOffset}; the outcome of the batch is unknown here`));
      }
    } else {
      const b = c.batch;
      const batch: RaftBatch = b.data.length > 0 ? b : { ...b, data: raftBatchBytes(b) };
      this.lastAppliedAppendTimeMs = b.appendTimeMs;
      item = { type: 'batch', batch };
      while (this.pending.length > 0 && this.pending[0]!.baseOffset <= b.lastOffset) {
        const p = this.pending.shift()!;
        if (p.baseOffset === b.baseOffset && p.epoch === b.epoch) p.resolve({ baseOffset: p.baseOffset, lastOffset: p.lastOffset, epoch: p.epoch });
        else p.reject(new KafkaError(ErrorCode.NOT_CONTROLLER, `the batch proposed at ${p.baseOffset} in epoch ${p.epoch} was replaced by the leader of epoch ${b.epoch}`));
      }
    }
    for (const l of this.committedListeners) l(item);
  }

  /** Writes the snapshot the core asked for; false when there is no source (no snapshots). */
  private takeSnapshot(id: SnapshotId): boolean {
    const source = this.opts.snapshotSource;
    if (source === undefined) return false;
    const batches = source(id);
    const bytes = encodeSnapshot({ id, lastContainedLogTimestampMs: this.lastAppliedAppendTimeMs, timestampMs: this.now(), batches });
    this.opts.storage.writeSnapshot(id, bytes);
    this.opts.log?.info({ nodeId: this.nodeId, endOffset: id.endOffset, epoch: id.epoch, bytes: bytes.length }, 'wrote a metadata snapshot');
    return true;
  }

  /** Tells listeners of a new leader; a leader that lost its epoch fails its pending proposals. */
  private checkLeadership(core: RaftNode): void {
    const s = core.status();
    const leaderId = s.role === 'resigned' ? NO_REPLICA : s.leaderId;
    const leading = s.role === 'leader';
    if (this.pending.length > 0) {
      const stillOurs = (p: PendingProposal): boolean => leading && p.epoch === s.epoch;
      if (!this.pending.every(stillOurs)) {
        const kept = this.pending.filter(stillOurs);
        for (const p of this.pending) {
          if (!stillOurs(p)) p.reject(new KafkaError(ErrorCode.NOT_CONTROLLER, `node ${this.nodeId} lost the leadership of epoch ${p.epoch} before the batch at ${p.baseOffset} committed; it may still commit`));
        }
        this.pending.splice(0, this.pending.length, ...kept);
      }
    }
    if (leaderId === this.leader.leaderId && s.epoch === this.leader.epoch) return;
    this.leader = { leaderId, epoch: s.epoch };
    for (const l of this.leaderListeners) l(this.leader);
  }

  private armTimer(): void {
    if (this.closed || this.core === undefined) return;
    const at = this.core.nextDeadlineMs();
    if (at === this.timerAtMs) return;
    this.clearTimer();
    if (!Number.isFinite(at)) return;
    this.timerAtMs = at;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.timerAtMs = Infinity;
      this.enqueue({ type: 'tick' });
    }, Math.max(0, Math.ceil(at - this.now())));
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAtMs = Infinity;
  }
}

function notController(nodeId: number, leader: LeaderAndEpoch, expectedEpoch: number | undefined): KafkaError {
  const known = leader.leaderId === NO_REPLICA ? 'no leader is known' : `the leader is node ${leader.leaderId}`;
  const epoch = expectedEpoch !== undefined ? ` of epoch ${expectedEpoch}` : '';
  return new KafkaError(ErrorCode.NOT_CONTROLLER, `node ${nodeId} is not the metadata quorum leader${epoch} (epoch ${leader.epoch}: ${known})`);
}
