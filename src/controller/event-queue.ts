// The controller's serial event queue (as Kafka's QuorumController): metadata changes run one at
// a time, in arrival order. Each is planned against the latest image, which includes the records
// of changes proposed earlier but not yet committed (the pending image); its records are then
// proposed through the MetadataLogClient, and only once the client reports them committed are
// they applied to the committed image, published, and the change answered. Commits are handled
// in proposal order, whatever order the client reports them in.
//
// Because planning and proposing happen inside the queue, one change at a time, two requests can
// never both pass a check that only one may pass, whatever awaits the request handlers or the
// log client do.
//
// A change whose records fail to commit is answered with the error and nothing of it is applied.
// The changes proposed after it were planned on an image that included it: they fail too, the
// pending image goes back to the last one without them, and a new epoch starts (the log client
// rejects what is left of the old one). A change that writes nothing (validateOnly, refusals,
// a producer id from a reserved block) is answered after every change before it committed, so an
// answer never reflects a change that may still fail.
//
// Bounds: at most maxQueued changes wait to be planned (more are refused at once with
// REQUEST_TIMED_OUT, which clients retry) and at most maxInFlight are proposed and not yet
// answered. No clock or timer of its own: record timestamps come from the injected nowMs.
import { applyRecords } from '../metadata/delta.js';
import type { MetadataImage } from '../metadata/image.js';
import type { MetadataRecord } from '../metadata/records.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { MetadataLogClient } from './metadata-log-client.js';

/** A change as the queue runs it. */
export interface ControllerOperation<T> {
  /** Plans against `image` (pending changes included): the records to commit and the answer once
   * they are committed. Must not throw for bad requests: a refusal is an answer with no records. */
  plan(image: MetadataImage): { records: MetadataRecord[]; answer: T };
  /** The answer when the records could not be committed, or the queue refused the change. */
  failed(err: KafkaError): T;
}

export interface EventQueueOptions {
  log: MetadataLogClient;
  nowMs: () => number;
  /** Called with every committed change, in commit order, before its answer. */
  onCommit: (records: readonly MetadataRecord[], image: MetadataImage, offset: bigint) => void;
  /** Called when changes failed to commit and the pending state was rolled back. */
  onRollback?: () => void;
  maxQueued?: number;
  maxInFlight?: number;
}

interface Waiting {
  op: ControllerOperation<unknown>;
  resolve: (answer: unknown) => void;
}

interface InFlight {
  records: MetadataRecord[];
  /** The pending image with this change applied. */
  image: MetadataImage;
  answer: unknown;
  op: ControllerOperation<unknown>;
  resolve: (answer: unknown) => void;
  /** Null until the log client reports the records committed (set at once when there are none). */
  offset: bigint | null;
  committed: boolean;
}

const DEFAULT_MAX_QUEUED = 10_000;
const DEFAULT_MAX_IN_FLIGHT = 64;

export class ControllerEventQueue {
  private committedImage: MetadataImage;
  private committedOffset: bigint;
  private pendingImage: MetadataImage;
  private epoch = 0;
  private readonly waiting: Waiting[] = [];
  private readonly inFlight: InFlight[] = [];
  private pumping = false;
  private readonly maxQueued: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly opts: EventQueueOptions,
    image: MetadataImage,
    offset: bigint,
  ) {
    this.committedImage = image;
    this.committedOffset = offset;
    this.pendingImage = image;
    this.maxQueued = opts.maxQueued ?? DEFAULT_MAX_QUEUED;
    this.maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  }

  /** The latest committed image. */
  get image(): MetadataImage {
    return this.committedImage;
  }

  get offset(): bigint {
    return this.committedOffset;
  }

  /** Changes waiting to be planned or proposed and not yet answered. */
  get size(): number {
    return this.waiting.length + this.inFlight.length;
  }

  /** Runs `op` after every change submitted before it; resolves with its answer. */
  submit<T>(op: ControllerOperation<T>): Promise<T> {
    if (this.waiting.length >= this.maxQueued) {
      return Promise.resolve(op.failed(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `The controller has ${this.waiting.length} metadata changes waiting; try again later.`)));
    }
    return new Promise<T>((resolve) => {
      this.waiting.push({ op, resolve: resolve as (answer: unknown) => void });
      this.pump();
    });
  }

  /** Plans and proposes waiting changes while there is room in flight. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.waiting.length > 0 && this.inFlight.length < this.maxInFlight) {
        const { op, resolve } = this.waiting.shift()!;
        let planned: { records: MetadataRecord[]; answer: unknown };
        let image: MetadataImage;
        try {
          planned = op.plan(this.pendingImage);
          image = planned.records.length === 0 ? this.pendingImage : applyRecords(this.pendingImage, planned.records);
        } catch (err) {
          // A bug in planning, not a bad request: this change fails, the queue goes on.
          resolve(op.failed(new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `Planning the metadata change failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })));
          continue;
        }
        const entry: InFlight = { records: planned.records, image, answer: planned.answer, op, resolve, offset: null, committed: planned.records.length === 0 };
        if (entry.committed && this.inFlight.length === 0) {
          resolve(planned.answer);
          continue;
        }
        this.inFlight.push(entry);
        if (entry.committed) continue;
        this.pendingImage = image;
        const epoch = this.epoch;
        this.opts.log.propose(epoch, planned.records, this.opts.nowMs()).then(
          (offset) => this.onCommitted(entry, offset),
          (err: unknown) => this.onFailed(entry, err),
        );
      }
    } finally {
      this.pumping = false;
    }
  }

  private onCommitted(entry: InFlight, offset: bigint): void {
    if (!this.inFlight.includes(entry)) return; // failed meanwhile, with an earlier change
    entry.offset = offset;
    entry.committed = true;
    this.answerCommitted();
    this.pump();
  }

  /** Applies, publishes and answers the committed changes at the head, in proposal order. */
  private answerCommitted(): void {
    while (this.inFlight.length > 0 && this.inFlight[0]!.committed) {
      const entry = this.inFlight.shift()!;
      if (entry.records.length > 0) {
        this.committedImage = entry.image;
        this.committedOffset = entry.offset!;
        this.opts.onCommit(entry.records, entry.image, entry.offset!);
      }
      entry.resolve(entry.answer);
    }
  }

  private onFailed(entry: InFlight, err: unknown): void {
    const at = this.inFlight.indexOf(entry);
    if (at < 0) return; // already failed, with an earlier change
    const cause = asKafkaError(err, 'The metadata log could not be written; nothing of this change was applied');
    const dropped = this.inFlight.splice(at);
    this.epoch++;
    this.pendingImage = this.inFlight.length > 0 ? this.inFlight[this.inFlight.length - 1]!.image : this.committedImage;
    this.opts.onRollback?.();
    dropped[0]!.resolve(dropped[0]!.op.failed(cause));
    for (const later of dropped.slice(1)) {
      later.resolve(later.op.failed(new KafkaError(cause.code, `An earlier metadata change failed to commit and this one depended on it; nothing of it was applied (${cause.detail ?? cause.errorName})`)));
    }
    this.answerCommitted();
    this.pump();
  }
}

/** A KafkaError as it is; anything else (an I/O error) as KAFKA_STORAGE_ERROR with its message. */
function asKafkaError(err: unknown, context: string): KafkaError {
  if (err instanceof KafkaError) return err;
  return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `${context}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
