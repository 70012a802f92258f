// The durability steps of a clean shutdown, collected while every log closes and then run
// together. Closing thousands of partitions one by one with a synchronous fsync each (the log,
// two indexes, the producer snapshot: four per partition) spent seconds waiting on the disk one
// file at a time; here the logs close synchronously without waiting (indexes trimmed, state
// final, descriptors handed over), and the fsyncs, snapshot files and renames run `concurrency`
// at a time on libuv's thread pool, where the file system commits them together.
//
// Ordering: a file handed over with fsyncAndClose is written by nobody after that (its log is
// closed); a snapshot is renamed into place only after its temp file was fsynced. The caller
// (LogManager.shutdown) writes checkpoints and the clean-shutdown marker only after run()
// resolved, so a marker on disk still means every file before it is durable.
import { close as fsClose, fsync as fsFsync, promises as fsp } from 'node:fs';

/** Jobs in flight at once; the CLI raises libuv's pool (UV_THREADPOOL_SIZE) to match. */
export const DEFERRED_SYNC_CONCURRENCY = 16;

export class DeferredSync {
  private readonly jobs: (() => Promise<void>)[] = [];

  get pending(): number {
    return this.jobs.length;
  }

  /** Takes ownership of `fd`: it is fsynced, then closed. `where` names the file in errors. */
  fsyncAndClose(fd: number, where: string): void {
    this.jobs.push(async () => {
      const handle = new FileHandleOf(fd);
      try {
        await handle.sync(where);
      } finally {
        await handle.close();
      }
    });
  }

  /** Writes `bytes` to `file` atomically: `tmp`, fsync, rename; then `after` (e.g. pruning). */
  writeAtomically(file: string, tmp: string, bytes: Buffer, after: () => void): void {
    this.jobs.push(async () => {
      const handle = await fsp.open(tmp, 'w');
      try {
        await handle.write(bytes, 0, bytes.length, 0);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsp.rename(tmp, file);
      after();
    });
  }

  /** Runs every job, `concurrency` at a time; rejects with the first failure once all have settled. */
  async run(concurrency = DEFERRED_SYNC_CONCURRENCY): Promise<void> {
    let next = 0;
    let failure: unknown = null;
    const worker = async (): Promise<void> => {
      while (next < this.jobs.length) {
        const job = this.jobs[next++]!;
        try {
          await job();
        } catch (err) {
          failure ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, this.jobs.length)) }, worker));
    this.jobs.length = 0;
    if (failure !== null) throw failure;
  }
}

/** fsync and close of a raw descriptor on the thread pool (fs.promises has no fd-based fsync). */
class FileHandleOf {
  constructor(private readonly fd: number) {}

  sync(where: string): Promise<void> {
    return new Promise((resolve, reject) =>
      fsFsync(this.fd, (err) => (err === null ? resolve() : reject(Object.assign(new Error(`fsync of ${where} failed: ${err.message}`), { code: err.code })))),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => fsClose(this.fd, (err) => (err === null ? resolve() : reject(err))));
  }
}
