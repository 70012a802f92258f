// One process per log directory: `<dir>/.lock` (Kafka's name) is locked for as long as the
// process uses the directory, so a second broker on the same log.dirs refuses to start instead of
// writing the same offsets into the same files.
//
// Why a kernel lock from `fs-native-extensions` rather than a pid written into .lock and checked
// for liveness (/proc/<pid>/cmdline on Linux):
// - The kernel drops the lock the moment the process is gone, however it went (kill -9, OOM
//   killer, power loss), so a restart after a crash never waits for, or has to judge, a stale file.
// - A pid check has a window between "the recorded process is dead" and "my pid is written" in
//   which two starting brokers both win; it mistakes a reused pid for a live owner (or, in
//   containers where the broker is pid 1 every time, a live owner for itself); and it cannot tell
//   two brokers apart inside one process (Broker.start twice in a test).
// - On Linux the package takes an open-file-description lock (fcntl F_OFD_SETLK; flock on macOS):
//   held per descriptor, so it also refuses a second Broker in the same process, and closing some
//   other descriptor of the file does not drop it (the trap of classic POSIX fcntl locks, which
//   `os-lock` uses). It ships prebuilt N-API binaries for Linux, macOS and Windows inside the npm
//   package (no install script, nothing downloaded) that load on Node 20 and Node 24 alike.
//   `fs-ext` (flock) builds with node-gyp against the installing Node's ABI (nan), so the same
//   node_modules fails to load on the other Node version, as CI runs it; `proper-lockfile` and
//   `lockfile` are mkdir/mtime schemes, not kernel locks, and leave a stale lock after kill -9.
// The pid written into .lock only makes the refusal message more useful; nothing trusts it.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { StorageStartupError } from './errors.js';

export const LOCK_FILE = '.lock';

interface NativeLocks {
  tryLock(fd: number, offset?: number, length?: number, opts?: { shared?: boolean }): boolean;
  unlock(fd: number, offset?: number, length?: number): void;
}

let native: NativeLocks | null = null;

function nativeLocks(): NativeLocks {
  if (native === null) {
    // Loaded on first use: an in-memory broker never needs the addon.
    native = createRequire(import.meta.url)('fs-native-extensions') as NativeLocks;
  }
  return native;
}

/** The lock on one log directory; held until release() or the end of the process. */
export class LogDirLock {
  private fd: number | null;

  private constructor(readonly dir: string, fd: number) {
    this.fd = fd;
  }

  /**
   * Creates `dir` if needed and locks `<dir>/.lock`, or throws a StorageStartupError naming the
   * directory (and the pid recorded by the holder) when another process or broker holds it.
   */
  static acquire(dir: string): LogDirLock {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, LOCK_FILE);
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    let locked: boolean;
    try {
      locked = nativeLocks().tryLock(fd);
    } catch (err) {
      fs.closeSync(fd);
      throw new StorageStartupError(`Cannot lock log directory ${dir} (${file}): ${(err as Error).message}`, file);
    }
    if (!locked) {
      const holder = fs.readFileSync(file, 'utf8').trim();
      fs.closeSync(fd);
      const by = /^\d+$/.test(holder) ? `another process (pid ${holder})` : 'another process';
      throw new StorageStartupError(`Log directory ${dir} is in use by ${by}: is another tributary server running on it? (lock ${file})`, file);
    }
    const pid = Buffer.from(`${process.pid}\n`);
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, pid, 0, pid.length, 0);
    return new LogDirLock(dir, fd);
  }

  get held(): boolean {
    return this.fd !== null;
  }

  /** Gives the directory up. The file stays: removing it would let a third process lock a new
   *  file while a second one still holds the old one. */
  release(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      nativeLocks().unlock(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Locks every directory (each once, however it is spelled); all or none. */
export function lockLogDirs(dirs: readonly string[]): LogDirLock[] {
  const locks: LogDirLock[] = [];
  const seen = new Set<string>();
  try {
    for (const dir of dirs) {
      fs.mkdirSync(dir, { recursive: true });
      const key = fs.realpathSync(dir);
      if (seen.has(key)) continue;
      seen.add(key);
      locks.push(LogDirLock.acquire(dir));
    }
  } catch (err) {
    for (const l of locks) l.release();
    throw err;
  }
  return locks;
}
