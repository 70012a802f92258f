// Replacing a group of segments by the one the log cleaner wrote, so that a crash at any step
// leaves a log with every key's latest value exactly once: either the old segments or the new one,
// never both and never neither. As Kafka's replaceSegments, with one addition:
//
//   1. the cleaner writes <base>.{log,index,timeindex,txnindex}.cleaned and fsyncs them;
//   2. a manifest `cleaner-swap` names the offsets [base, end) the new segment replaces
//      (written atomically; Kafka finds them from the swap segment's last offset, which is wrong
//      when cleaning removed the last batches of the group, so an old segment could survive).
//      Steps 1 and 2 are the cleaner's work (cleaner-work.ts, on its worker thread: nothing is
//      committed yet, so they need not be atomic with the log's other changes);
//   3. .cleaned -> .swap, indexes first, the log file last: `<base>.log.swap` is the commit point;
//   4. the old segments' files go (renamed to .deleted, removed on the thread pool; the log's
//      load removes any .deleted file left);
//   5. .swap -> live names, the log file first;
//   6. the manifest goes, without waiting for the disk: a manifest left by a crash after step 5
//      names a finished swap, which recovery (below) only removes.
// Step 3 is commitCleanedSegment, synchronous on the event loop with the change of the log's
// segment list (the new segment serves reads from its .swap files at once); steps 4-6 are a
// PendingSwap, run at once (finishSync) or with their fsyncs on the thread pool (finish), so the
// event loop does not wait for the disk. Each step waits for the fsync of the previous ones,
// whichever way it runs, so the files on disk go through the same states.
//
// Recovery at open (completeInterruptedSwap), by what it finds:
//   - no manifest: leftovers of step 1 (or of a finished swap): every .cleaned/.swap file goes;
//   - manifest and <base>.log.cleaned: not committed: the new files go, the old segments stay;
//   - manifest and <base>.log.swap: committed: the live segment files with a base offset in
//     [base, end) go (the old ones, some perhaps gone already), the .swap files take live names;
//   - manifest and neither: step 5 had renamed the log file: remaining .swap indexes take live names.
// Then the manifest goes. Each step is fsynced (files, then the directory) before the next.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsyncDir, writeFileAtomically } from './checkpoint.js';
import { INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX, offsetFileStem, offsetFromFileName, segmentFilePath } from './files.js';
import type { LogSegment } from './log-segment.js';

export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';
export const SWAP_MANIFEST_FILE = 'cleaner-swap';
/** A segment's files: the log and its offset, time and (when it has entries) transaction indexes. */
const SEGMENT_SUFFIXES = [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX] as const;

/** The points between the steps above; tests throw from a hook to simulate a crash there. */
export type SwapStep = 'cleaned' | 'manifest' | 'swap' | 'old-deleted-partly' | 'old-deleted' | 'log-renamed' | 'done';

export interface SwapHooks {
  afterSwapStep?(step: SwapStep, baseOffset: number): void;
}

/**
 * Steps 2-3 for `cleaned` (inactive, files fsynced, suffix .cleaned) replacing `old` (the
 * consecutive segments it was cleaned from, inactive), whose offsets span [cleaned.baseOffset,
 * endOffset): after this the swap is committed (once the directory is fsynced, which the
 * returned PendingSwap's first step waits for) and `cleaned` carries the .swap suffix.
 */
export function commitCleanedSegment(dir: string, cleaned: LogSegment, old: readonly LogSegment[], endOffset: number, hooks: SwapHooks = {}): PendingSwap {
  const base = cleaned.baseOffset;
  const step = (s: SwapStep) => hooks.afterSwapStep?.(s, base);
  step('cleaned');
  // Written with the cleaned files (step 2); again here only if it does not name this swap.
  const manifest = readManifest(path.join(dir, SWAP_MANIFEST_FILE));
  if (manifest?.base !== base || manifest.end !== endOffset) writeSwapManifest(dir, base, endOffset);
  step('manifest');
  cleaned.renameFiles(SWAP_SUFFIX);
  return new PendingSwap(dir, cleaned, old, step);
}

/** Steps 4-6 of a committed swap, each after an fsync of the directory. */
export class PendingSwap {
  /** The next step: 0 = delete the old segments, 1 = live names, 2 = the manifest goes, 3 = done. */
  private next = 0;
  private failure: Error | null = null;

  constructor(
    private readonly dir: string,
    private readonly cleaned: LogSegment,
    private readonly old: readonly LogSegment[],
    private readonly step: (s: SwapStep) => void,
  ) {}

  get done(): boolean {
    return this.next === 3;
  }

  /** The remaining steps now; throws (and stops for good) on a failure, leaving the files to recovery. */
  finishSync(): void {
    while (!this.done) {
      fsyncDir(this.dir);
      this.advance();
    }
  }

  /** The remaining steps, their fsyncs on the thread pool; a finishSync meanwhile takes over. */
  async finish(): Promise<void> {
    while (!this.done) {
      const at = this.next;
      await fsyncDirAsync(this.dir);
      // No await from this check to the step: it runs on the event loop like every change of the log.
      if (this.next !== at) continue;
      this.advance();
    }
  }

  private advance(): void {
    if (this.failure !== null) throw this.failure;
    try {
      switch (this.next) {
        case 0:
          this.step('swap');
          this.old.forEach((s, i) => {
            void s.deleteLater();
            if (i === 0 && this.old.length > 1) this.step('old-deleted-partly');
          });
          break;
        case 1:
          this.step('old-deleted');
          this.cleaned.releaseDescriptor(); // reads since the commit may have opened it
          this.cleaned.renameFiles('', () => this.step('log-renamed'));
          break;
        case 2:
          this.step('done');
          removeSwapManifest(this.dir);
          break;
      }
      this.next++;
    } catch (err) {
      this.failure = err as Error;
      throw err;
    }
  }
}

async function fsyncDirAsync(dir: string): Promise<void> {
  let handle: fs.promises.FileHandle | null = null;
  try {
    handle = await fs.promises.open(dir, 'r');
    await handle.sync();
  } catch {
    // As fsyncDir: some platforms cannot fsync a directory; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}

/** Step 2: the manifest of a swap of the segment at `base` replacing the offsets [base, end). */
export function writeSwapManifest(dir: string, base: number, end: number): void {
  writeFileAtomically(path.join(dir, SWAP_MANIFEST_FILE), `${base} ${end}\n`);
}

/** Step 6, or the manifest of a swap that will not happen (its .cleaned files go too). */
export function removeSwapManifest(dir: string): void {
  fs.rmSync(path.join(dir, SWAP_MANIFEST_FILE), { force: true });
}

/** What recovery did, for the log line and tests. */
export interface SwapRecovery {
  action: 'none' | 'discarded' | 'completed';
  baseOffset: number | null;
  removedFiles: string[];
}

/** Finishes or undoes an interrupted swap (see the file comment). Call before listing segments. */
export function completeInterruptedSwap(dir: string): SwapRecovery {
  const manifestPath = path.join(dir, SWAP_MANIFEST_FILE);
  const names = fs.readdirSync(dir);
  const removed: string[] = [];
  const remove = (name: string) => {
    fs.rmSync(path.join(dir, name), { force: true });
    removed.push(name);
  };
  const leftovers = (suffix: string) => names.filter((n) => n.endsWith(suffix) && segmentStem(n.slice(0, -suffix.length)) !== null);
  const manifest = readManifest(manifestPath);
  if (manifest === null) {
    for (const n of [...leftovers(CLEANED_SUFFIX), ...leftovers(SWAP_SUFFIX)]) remove(n);
    if (fs.existsSync(manifestPath)) remove(SWAP_MANIFEST_FILE);
    if (removed.length > 0) fsyncDir(dir);
    return { action: removed.length > 0 ? 'discarded' : 'none', baseOffset: null, removedFiles: removed };
  }
  const { base, end } = manifest;
  const stem = offsetFileStem(base);
  const logSwap = `${stem}${LOG_SUFFIX}${SWAP_SUFFIX}`;
  const logCleaned = `${stem}${LOG_SUFFIX}${CLEANED_SUFFIX}`;
  let action: SwapRecovery['action'];
  if (names.includes(logCleaned) || (!names.includes(logSwap) && !names.includes(`${stem}${LOG_SUFFIX}`))) {
    // Not committed (or, impossibly, nothing to commit): back to the old segments.
    for (const n of [...leftovers(CLEANED_SUFFIX), ...leftovers(SWAP_SUFFIX)]) remove(n);
    action = 'discarded';
  } else {
    if (names.includes(logSwap)) {
      for (const n of names) {
        for (const suffix of SEGMENT_SUFFIXES) {
          const offset = offsetFromFileName(n, suffix);
          if (offset !== null && offset >= base && offset < end) remove(n);
        }
      }
      fsyncDir(dir);
    }
    for (const suffix of SEGMENT_SUFFIXES) {
      const from = segmentFilePath(dir, base, suffix) + SWAP_SUFFIX;
      if (fs.existsSync(from)) fs.renameSync(from, segmentFilePath(dir, base, suffix));
    }
    // Any other leftovers are not part of this swap.
    for (const n of [...leftovers(CLEANED_SUFFIX), ...leftovers(SWAP_SUFFIX)]) if (fs.existsSync(path.join(dir, n))) remove(n);
    action = 'completed';
  }
  fs.rmSync(manifestPath, { force: true });
  fsyncDir(dir);
  return { action, baseOffset: base, removedFiles: removed };
}

/** `<20 digits>.log|.index|.timeindex|.txnindex`, or null. */
function segmentStem(name: string): string | null {
  for (const suffix of SEGMENT_SUFFIXES) if (offsetFromFileName(name, suffix) !== null) return name;
  return null;
}

function readManifest(file: string): { base: number; end: number } | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const m = /^(\d+) (\d+)\n$/.exec(text);
  if (m === null) return null; // written atomically, so a damaged one was never complete: nothing was committed
  return { base: Number(m[1]), end: Number(m[2]) };
}
