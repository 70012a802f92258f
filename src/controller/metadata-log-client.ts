// Where the controller's records go to be committed. The single-node implementation below appends
// them to the local metadata log and reports them committed once the append is durable; the Raft
// quorum (controller/raft/) will implement the same interface, reporting commit when a majority
// of voters has the records.
import type { MetadataRecord } from '../metadata/records.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { MetadataLog, MetadataReplayEnd } from './metadata-log.js';

export interface MetadataLogClient {
  /** Calls `apply` with every committed record, in order (start-up). */
  replay(apply: (record: MetadataRecord) => void): MetadataReplayEnd;
  /**
   * Proposes `records`, to follow every record proposed before. Resolves with the offset of the
   * last of them once they are committed, in proposal order; rejects when they never will be.
   * After a rejection, every later proposal of the same `epoch` is rejected too: the controller
   * planned them on top of the rejected records, and starts a new epoch.
   */
  propose(epoch: number, records: readonly MetadataRecord[], timestampMs: number): Promise<bigint>;
  /**
   * A quorum's client (RaftMetadataLogClient): committed changes and leadership come through
   * `events` instead of replay(); the controller plans only between activate and deactivate.
   * Absent for a single voter, whose controller is always active and applies its own commits.
   */
  listen?(events: QuorumEvents): void;
}

/** What a quorum's log client tells its controller, in log order. */
export interface QuorumEvents {
  /** Records committed, whoever proposed them (this controller's included, before its propose
   * resolves); `offset` is the last one's. `snapshot`: they replace the whole state. */
  committed(records: readonly MetadataRecord[], offset: bigint, snapshot: boolean): void;
  /** This controller leads `epoch` and has everything committed up to `offset`: it may plan. */
  activate(epoch: number, offset: bigint): void;
  /** Leadership is lost: the pending changes are being rejected; back to the committed state. */
  deactivate(): void;
}

/** Changes of fewer records are encoded in one go (a few milliseconds at most); larger ones in
 * slices with the event loop free between two. */
const SLICED_ENCODE_MIN_RECORDS = 1000;

/** One voter: a record is committed once its batch is durably appended to the local log. */
export class LocalMetadataLogClient implements MetadataLogClient {
  /** Appends run one after another, in proposal order. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Proposals of an epoch below this are rejected (an earlier one of theirs failed). */
  private fencedBelow = 0;

  constructor(
    private readonly log: MetadataLog,
    /** Resolves once pending I/O has had a turn (between slices of a large change's encoding). */
    private readonly pause: () => Promise<void>,
    /** The state below the log's start (the records of the snapshot start-up loaded), replayed first. */
    private readonly snapshotRecords: () => readonly MetadataRecord[] = () => [],
  ) {}

  replay(apply: (record: MetadataRecord) => void): MetadataReplayEnd {
    for (const r of this.snapshotRecords()) apply(r);
    return this.log.replay(apply);
  }

  propose(epoch: number, records: readonly MetadataRecord[], timestampMs: number): Promise<bigint> {
    const appended = this.tail.then(async () => {
      this.checkNotFenced(epoch);
      try {
        if (records.length < SLICED_ENCODE_MIN_RECORDS) return this.log.append(records, timestampMs);
        const prepared = await this.log.prepare(records, timestampMs, this.pause);
        this.checkNotFenced(epoch);
        return this.log.appendPrepared(prepared);
      } catch (err) {
        this.fencedBelow = Math.max(this.fencedBelow, epoch + 1);
        throw err;
      }
    });
    this.tail = appended.catch(() => {});
    return appended;
  }

  private checkNotFenced(epoch: number): void {
    if (epoch < this.fencedBelow) {
      throw new KafkaError(ErrorCode.NOT_CONTROLLER, `a metadata change proposed before it failed to commit; epoch ${epoch} is over`);
    }
  }
}
