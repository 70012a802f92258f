// The event loop's side of one log cleaner worker thread (cleaner-worker.ts): starts it on first
// use, sends it one request at a time and answers each with a promise, cancels its work through a
// shared control word, and notices when it dies. A worker that exits or throws outside a request
// (out of memory, a bug) fails the request in flight with WorkerCrashedError; the next request
// starts a new worker. Paths, offsets and plain records cross; never batches or records.
import { Worker } from 'node:worker_threads';
import type { GroupTask, MapTask, WorkStats } from './cleaner-work.js';
import type { SegmentConfig } from './log-segment.js';

export interface CleanerWorkerInit {
  dedupeBufferBytes: number;
  ioBufferBytes: number;
  loadFactor: number;
  /** Bound on one stored batch's records once decompressed. */
  maxUncompressedBytes: number;
  /** log.cleaner.io.max.bytes.per.second (Infinity = unthrottled). */
  ioMaxBytesPerSecond: number;
  /** One Int32: the generation; a request whose generation is no longer current stops. */
  control: SharedArrayBuffer;
}

interface RequestBase {
  id: number;
  generation: number;
  /** The partition's directory. */
  dir: string;
  /** Base offsets of the closed segments to read, oldest first. */
  segments: number[];
  segmentConfig: SegmentConfig;
}

export type CleanerRequest = (RequestBase & { kind: 'map'; task: MapTask }) | (RequestBase & { kind: 'group'; task: GroupTask });

export type CleanerReply =
  | { id: number; ok: true; endOffset: number; /** The group's cleaned segment held nothing and is gone (the group just goes). */ dropped: boolean; work: WorkStats }
  | { id: number; ok: false; cancelled: boolean; message: string; code: string | null };

export type CleanerResult = Extract<CleanerReply, { ok: true }>;

/** The work failed in the worker (a corrupt batch, a file gone); `code` is the errno code, if any. */
export class CleanerWorkError extends Error {
  override readonly name = 'CleanerWorkError';
  constructor(message: string, readonly code: string | null, readonly cancelled: boolean) {
    super(message);
  }
}

/** The worker died while a request was in flight. */
export class WorkerCrashedError extends Error {
  override readonly name = 'WorkerCrashedError';
}

type Pending = { resolve: (r: CleanerResult) => void; reject: (e: Error) => void };

export class CleanerThread {
  private worker: Worker | null = null;
  private readonly controlBuffer = new SharedArrayBuffer(4);
  private readonly control = new Int32Array(this.controlBuffer);
  private pending: { id: number; p: Pending } | null = null;
  private nextId = 1;
  private stopping = false;

  constructor(
    private readonly init: Omit<CleanerWorkerInit, 'control'>,
    /** A crash of the worker outside stop(), for the log. */
    private readonly onCrash: (err: Error) => void,
  ) {}

  /** The generation a new request runs under. */
  get generation(): number {
    return Atomics.load(this.control, 0);
  }

  /** Whether a worker is running (tests). */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Sends one request (at most one at a time); resolves with the worker's answer. */
  request(req: Omit<CleanerRequest, 'id'>): Promise<CleanerResult> {
    if (this.pending !== null) throw new Error('a cleaner thread serves one request at a time');
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<CleanerResult>((resolve, reject) => {
      this.pending = { id, p: { resolve, reject } };
      worker.postMessage({ ...req, id } as CleanerRequest);
    });
  }

  /** Stops the work in flight at its next slice (its .cleaned files go); later requests run. */
  cancel(): void {
    Atomics.add(this.control, 0, 1);
    Atomics.notify(this.control, 0);
  }

  /** Ends the worker: cancels, then terminates it (a blocking system call finishes first). */
  async stop(): Promise<void> {
    this.cancel();
    const worker = this.worker;
    if (worker === null) return;
    this.stopping = true;
    try {
      await worker.terminate();
    } finally {
      this.stopping = false;
    }
  }

  /** Kills the worker as a crash would (tests). */
  async crashForTest(): Promise<void> {
    const worker = this.worker;
    if (worker !== null) await worker.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker !== null) return this.worker;
    // Compiled next to this file (dist/src/storage/cleaner-worker.js).
    const worker = new Worker(new URL('./cleaner-worker.js', import.meta.url), { workerData: { ...this.init, control: this.controlBuffer } satisfies CleanerWorkerInit });
    // The broker's exit does not wait for a cleaner; stop() ends it on shutdown.
    worker.unref();
    let crash: Error | null = null;
    worker.on('message', (reply: CleanerReply) => {
      const pending = this.pending;
      if (pending === null || pending.id !== reply.id) return;
      this.pending = null;
      if (reply.ok) pending.p.resolve(reply);
      else pending.p.reject(new CleanerWorkError(reply.message, reply.code, reply.cancelled));
    });
    worker.on('error', (err) => {
      crash = err;
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = null;
      const err = new WorkerCrashedError(`the log cleaner's worker thread ${this.stopping ? 'was stopped' : `exited (code ${code})`}${crash === null ? '' : `: ${crash.message}`}`);
      if (!this.stopping) this.onCrash(err);
      const pending = this.pending;
      this.pending = null;
      pending?.p.reject(err);
    });
    this.worker = worker;
    return worker;
  }
}
