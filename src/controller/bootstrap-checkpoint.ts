// `bootstrap.checkpoint`: the records a new cluster starts with, as `kafka-storage.sh format`
// writes them into the metadata directory (a snapshot-format file: the feature levels, and the
// SCRAM credentials of --add-scram). The first active controller of a cluster without a
// metadata.version commits them as its first change; a directory without the file (a node that
// formatted itself on first start) gets the default feature levels alone.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetadataRecord } from '../metadata/records.js';
import { decodeMetadataRecordValue, encodeMetadataRecord } from './metadata-log.js';
import { decodeSnapshot, encodeSnapshot } from './raft/snapshot-file.js';

export const BOOTSTRAP_CHECKPOINT_FILE = 'bootstrap.checkpoint';

export function writeBootstrapCheckpoint(dir: string, records: readonly MetadataRecord[], nowMs: number): void {
  const bytes = encodeSnapshot({ id: { endOffset: 0, epoch: 0 }, lastContainedLogTimestampMs: -1, timestampMs: nowMs, batches: [records.map(encodeMetadataRecord)] });
  const file = join(dir, BOOTSTRAP_CHECKPOINT_FILE);
  writeFileSync(`${file}.tmp`, bytes);
  renameSync(`${file}.tmp`, file);
}

/** The bootstrap records of a metadata directory, or null when it has no bootstrap.checkpoint. */
export function readBootstrapCheckpoint(dir: string): MetadataRecord[] | null {
  const file = join(dir, BOOTSTRAP_CHECKPOINT_FILE);
  if (!existsSync(file)) return null;
  const out: MetadataRecord[] = [];
  for (const value of decodeSnapshot(readFileSync(file), file).records) {
    const r = decodeMetadataRecordValue(value);
    if (r !== null) out.push(r);
  }
  return out;
}
