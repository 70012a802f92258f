// `partition.metadata` in every partition directory, in Kafka's format:
//   version: 0
//   topic_id: <the topic's id, base64url>
// It ties the directory to one incarnation of its topic, so that start-up deletes a directory only
// when a committed RemoveTopicRecord removed exactly that topic id, and never mixes the data of a
// deleted topic into a new topic of the same name.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TMP_SUFFIX } from './files.js';

export const PARTITION_METADATA_FILE = 'partition.metadata';

export type PartitionMetadata =
  | { state: 'missing' }
  | { state: 'damaged'; problem: string }
  | { state: 'present'; topicId: string };

/** Reads `<partitionDir>/partition.metadata`; never throws for a missing or malformed file. */
export function readPartitionMetadata(partitionDir: string): PartitionMetadata {
  const file = path.join(partitionDir, PARTITION_METADATA_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'damaged', problem: (err as Error).message };
  }
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^([a-z_]+):\s+(\S+)\s*$/.exec(line);
    if (m === null) return { state: 'damaged', problem: `malformed line '${line.slice(0, 80)}'` };
    fields.set(m[1]!, m[2]!);
  }
  if (fields.get('version') !== '0') return { state: 'damaged', problem: `unsupported version '${fields.get('version') ?? ''}'` };
  const topicId = fields.get('topic_id');
  // A Kafka Uuid: 16 bytes in base64url without padding.
  if (topicId === undefined || !/^[A-Za-z0-9_-]{22}$/.test(topicId)) return { state: 'damaged', problem: `bad topic_id '${topicId ?? ''}'` };
  return { state: 'present', topicId };
}

/**
 * Writes the file through a rename, so a reader sees the old content or the new. Not fsynced:
 * the file is rewritten from the metadata log whenever it is found missing or damaged, so a power
 * loss costs nothing, and creating a topic of many partitions stays free of per-partition fsyncs.
 */
export function writePartitionMetadata(partitionDir: string, topicId: string): void {
  const file = path.join(partitionDir, PARTITION_METADATA_FILE);
  fs.writeFileSync(file + TMP_SUFFIX, `version: 0\ntopic_id: ${topicId}`);
  fs.renameSync(file + TMP_SUFFIX, file);
}
