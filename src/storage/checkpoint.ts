// Offset checkpoint files at the top of a log dir, in Kafka's text format:
//   0                      <- version
//   2                      <- number of entries
//   my-topic 0 1234        <- topic partition offset
//   my-topic 1 99
// Written atomically: temp file, fsync, rename, fsync of the directory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TMP_SUFFIX } from './files.js';

export type OffsetCheckpoint = Map<string, number>;

/** Key of a partition in a checkpoint map. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export function splitPartitionKey(key: string): { topic: string; partition: number } {
  const sep = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, sep), partition: Number(key.slice(sep + 1)) };
}

/**
 * Reads a checkpoint file; a missing file is an empty map. A malformed file throws: silently
 * treating it as empty would lose the recovery point and the log start offsets.
 */
export function readOffsetCheckpoint(file: string): OffsetCheckpoint {
  const out: OffsetCheckpoint = new Map();
  if (!fs.existsSync(file)) return out;
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  if (lines[0] !== '0') throw new Error(`checkpoint ${file}: unsupported version line '${lines[0]}'`);
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || lines.length !== count + 2) throw new Error(`checkpoint ${file}: expected ${lines[1]} entries, found ${lines.length - 2}`);
  for (const line of lines.slice(2)) {
    const parts = line.split(' ');
    if (parts.length !== 3) throw new Error(`checkpoint ${file}: malformed line '${line}'`);
    const [topic, partitionText, offsetText] = parts as [string, string, string];
    const partition = Number(partitionText);
    const offset = Number(offsetText);
    if (!/^\d+$/.test(partitionText) || !/^\d+$/.test(offsetText) || !Number.isSafeInteger(offset)) throw new Error(`checkpoint ${file}: malformed line '${line}'`);
    out.set(partitionKey(topic, partition), offset);
  }
  return out;
}

export function writeOffsetCheckpoint(file: string, offsets: OffsetCheckpoint): void {
  const lines = ['0', String(offsets.size)];
  for (const [key, offset] of offsets) {
    const { topic, partition } = splitPartitionKey(key);
    lines.push(`${topic} ${partition} ${offset}`);
  }
  writeFileAtomically(file, lines.join('\n') + '\n');
}

export function writeFileAtomically(file: string, content: string | Buffer): void {
  const tmp = file + TMP_SUFFIX;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

export function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  }
}
