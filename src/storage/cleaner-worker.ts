// The log cleaner's worker thread (one per log.cleaner.threads): runs cleaner-work.ts on the
// segment files that the event loop names, so the reading, hashing, filtering, compression and
// writing of a round cost the request path nothing. It owns its offset map (its share of
// log.cleaner.dedupe.buffer.size) and write buffer (log.cleaner.io.buffer.size) and serves one
// request at a time, in order: a map over the dirty section, then one group after another, each
// left on disk as <base>.*.cleaned for the event loop to swap in (cleaner-thread.ts is the other
// side). It never writes, renames or deletes a live file, so stopping it anywhere (terminate, a
// crash) leaves only .cleaned files, which the next swap or start-up removes.
//
// Between slices of about 64 KiB it checks the shared control word (the event loop bumps it to
// cancel: shutdown, a deleted partition) and keeps the round under
// log.cleaner.io.max.bytes.per.second, sleeping on that same word so a cancel wakes it.
import { parentPort, workerData } from 'node:worker_threads';
import { compress, decompress } from '../protocol/records/compression.js';
import { CleanerWork, emptyWorkStats, type WorkStats } from './cleaner-work.js';
import { LogSegment } from './log-segment.js';
import type { CleanerRequest, CleanerReply, CleanerWorkerInit } from './cleaner-thread.js';

const init = workerData as CleanerWorkerInit;
const control = new Int32Array(init.control);
const work = new CleanerWork({
  dedupeBufferBytes: init.dedupeBufferBytes,
  ioBufferBytes: init.ioBufferBytes,
  loadFactor: init.loadFactor,
  codec: {
    decompress: (type, data) => decompress(type, data, init.maxUncompressedBytes),
    compress: (type, data) => compress(type, data),
  },
});

class Cancelled extends Error {}

/** The current round's throttle: bytes handled since its map request, and when that came. */
let roundBytes = 0;
let roundStartMs = 0;
/** Longest sleep between checks of the control word. */
const MAX_SLEEP_MS = 500;

function drive<T>(gen: Generator<number, T>, generation: number): T {
  for (;;) {
    if (Atomics.load(control, 0) !== generation) {
      gen.return(undefined as never); // runs the work's finally: its .cleaned files go
      throw new Cancelled('cancelled');
    }
    const r = gen.next();
    if (r.done === true) return r.value;
    roundBytes += r.value;
    const rate = init.ioMaxBytesPerSecond;
    if (Number.isFinite(rate) && rate > 0) {
      const waitMs = Math.ceil((roundBytes / rate) * 1000 - (performance.now() - roundStartMs));
      if (waitMs > 0) Atomics.wait(control, 0, generation, Math.min(waitMs, MAX_SLEEP_MS));
    }
  }
}

function handle(req: CleanerRequest): CleanerReply {
  const stats: WorkStats = emptyWorkStats();
  const segments = req.segments.map((base) => LogSegment.openForReading(req.dir, base, req.segmentConfig, 0));
  try {
    if (req.kind === 'map') {
      roundBytes = 0;
      roundStartMs = performance.now();
      const endOffset = drive(work.buildOffsetMap(segments, req.task, stats), req.generation);
      return { id: req.id, ok: true, endOffset, dropped: false, work: stats };
    }
    const cleaned = drive(work.cleanGroup(req.dir, segments, req.task, stats), req.generation);
    return { id: req.id, ok: true, endOffset: req.task.endOffset, dropped: cleaned === null, work: stats };
  } finally {
    for (const s of segments) s.close();
  }
}

parentPort!.on('message', (req: CleanerRequest) => {
  let reply: CleanerReply;
  try {
    reply = handle(req);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    reply = { id: req.id, ok: false, cancelled: err instanceof Cancelled, message: e.message, code: e.code ?? null };
  }
  parentPort!.postMessage(reply);
});
