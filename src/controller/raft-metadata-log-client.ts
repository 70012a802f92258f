// The MetadataLogClient of a controller that is one voter of a KRaft quorum (RaftDriver).
//
// Proposals: the records of one change are encoded into one record batch (Kafka's metadata
// record frames, as MetadataLog writes them) and proposed through the driver with the Raft epoch
// this controller is active in; the promise resolves when a majority has the batch. Everything
// committed reaches the controller through QuorumEvents.committed, its own batches included, in
// log order and before the proposal's promise resolves: the controller publishes images from
// there alone, so the broker side sees every committed change once, whoever proposed it.
//
// Activity (Kafka's QuorumController "claim"): the controller may plan only once the LeaderChange
// control batch of its own epoch is committed: by then everything before it has been handed to
// `committed`, so its image is the whole committed state. Losing leadership (a new epoch, another
// leader, resignation) deactivates it at once; the driver rejects the pending proposals with
// NOT_CONTROLLER, and the controller goes back to the committed image.
//
// Fencing (the MetadataLogClient contract): a rejected proposal fences its controller epoch;
// while still leading, a failure other than lost leadership (a full backlog, a batch too large)
// makes this node resign, as Kafka's QuorumController renounces: later proposals of the same
// epoch may already be in the log, planned on the failed one, and only a fresh start from the
// committed state is sure to be consistent.
import type { MetadataRecord } from '../metadata/records.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { decodeRecordBatch, encodeRecordBatch } from '../protocol/records/record-batch.js';
import { decodeMetadataRecordValue, encodeMetadataRecord, type MetadataReplayEnd } from './metadata-log.js';
import type { MetadataLogClient, QuorumEvents } from './metadata-log-client.js';
import type { CommittedItem, RaftDriver } from './raft/raft-driver.js';
import type { LeaderAndEpoch } from './raft/types.js';

export interface RaftMetadataLogClientLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export class RaftMetadataLogClient implements MetadataLogClient {
  private events: QuorumEvents | undefined;
  /** The Raft epoch this controller is active in; -1 while standby. */
  private activeEpoch = -1;
  /** Controller epochs below this are rejected (one of their proposals failed). */
  private fencedBelow = 0;

  constructor(
    private readonly driver: RaftDriver,
    private readonly log?: RaftMetadataLogClientLog,
  ) {}

  /** Must be called before the driver starts: committed items are delivered from start() on. */
  listen(events: QuorumEvents): void {
    if (this.events !== undefined) throw new Error('RaftMetadataLogClient.listen: called twice');
    this.events = events;
    this.driver.onCommitted((c) => this.onCommitted(c, events));
    this.driver.onLeaderChange((l) => this.onLeaderChange(l, events));
  }

  /** Nothing is replayed synchronously: the committed log (and snapshot) arrives through
   * QuorumEvents.committed once the driver knows the high watermark. */
  replay(): MetadataReplayEnd {
    return { applied: 0, unfinishedTransaction: false, lastOffset: -1n };
  }

  get active(): boolean {
    return this.activeEpoch >= 0;
  }

  propose(epoch: number, records: readonly MetadataRecord[], timestampMs: number): Promise<bigint> {
    if (epoch < this.fencedBelow) return Promise.reject(new KafkaError(ErrorCode.NOT_CONTROLLER, `a metadata change proposed before it failed to commit; controller epoch ${epoch} is over`));
    const raftEpoch = this.activeEpoch;
    if (raftEpoch < 0) {
      this.fencedBelow = Math.max(this.fencedBelow, epoch + 1);
      const leader = this.driver.leaderAndEpoch();
      return Promise.reject(new KafkaError(ErrorCode.NOT_CONTROLLER, `node ${this.driver.nodeId} is not the active controller${leader.leaderId >= 0 ? ` (the leader is node ${leader.leaderId})` : ''}`));
    }
    const timestamp = BigInt(timestampMs);
    let batch: Buffer;
    try {
      batch = encodeRecordBatch({ records: records.map((r) => ({ key: null, value: encodeMetadataRecord(r), timestamp })) });
    } catch (err) {
      // Nothing was proposed: only this epoch's later changes, planned on it, must not follow.
      this.fencedBelow = Math.max(this.fencedBelow, epoch + 1);
      return Promise.reject(err);
    }
    return this.driver.propose(batch, records.length, { expectedEpoch: raftEpoch }).then(
      (o) => BigInt(o.lastOffset),
      (err: unknown) => {
        this.fencedBelow = Math.max(this.fencedBelow, epoch + 1);
        if (this.activeEpoch === raftEpoch) {
          this.log?.warn({ epoch: raftEpoch, reason: (err as Error).message }, 'a metadata proposal failed while leading; resigning');
          void this.driver.resign();
        }
        throw err;
      },
    );
  }

  private onCommitted(c: CommittedItem, events: QuorumEvents): void {
    if (c.type === 'snapshot') {
      events.committed(recordsOf(c.records), BigInt(c.snapshotId.endOffset - 1), true);
      return;
    }
    const b = c.batch;
    if (b.control !== undefined) {
      // Our epoch's LeaderChange: everything before it is committed and was handed over.
      if (b.control.type === 'leaderChange' && b.control.leaderId === this.driver.nodeId && this.activeEpoch < 0) {
        // The core's state, not the last leader reported to listeners (that comes at the end of
        // the driver's round): still leading the batch's epoch.
        const now = this.driver.status();
        if (now.role === 'leader' && now.epoch === b.epoch) {
          this.activeEpoch = b.epoch;
          this.log?.info({ epoch: b.epoch, offset: b.lastOffset }, 'active controller');
          events.activate(b.epoch, BigInt(b.lastOffset));
        }
      }
      return;
    }
    const values: Buffer[] = [];
    for (const rec of decodeRecordBatch(b.data, 0, { skipCrcCheck: true }).records) if (rec.value !== null) values.push(rec.value);
    events.committed(recordsOf(values), BigInt(b.lastOffset), false);
  }

  private onLeaderChange(l: LeaderAndEpoch, events: QuorumEvents): void {
    if (this.activeEpoch < 0) return;
    if (l.leaderId === this.driver.nodeId && l.epoch === this.activeEpoch) return;
    this.log?.info({ epoch: this.activeEpoch, leaderId: l.leaderId, newEpoch: l.epoch }, 'no longer the active controller');
    this.activeEpoch = -1;
    events.deactivate();
  }
}

/** The metadata records among record values (transaction markers left out: every change is one
 * batch here, committed whole). */
function recordsOf(values: readonly Buffer[]): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  for (const v of values) {
    const r = decodeMetadataRecordValue(v);
    if (r !== null) out.push(r);
  }
  return out;
}
