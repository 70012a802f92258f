// Kafka's topic name rules: 1-249 characters of [a-zA-Z0-9._-], not "." or "..". Names that
// differ only by '.' versus '_' collide in metric names, so Kafka refuses the second one.
import { randomBytes } from 'node:crypto';
import { ZERO_UUID } from '../protocol/codec/reader.js';

/** The partition of the metadata log itself (KRaft's). */
export const METADATA_TOPIC = '__cluster_metadata';
export const MAX_TOPIC_NAME_LENGTH = 249;
const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** Returns why `name` is not a legal topic name, or null when it is. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return 'Topic name is illegal, it can\'t be empty';
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, topic name: ${name}`;
  }
  if (!LEGAL.test(name)) {
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return null;
}

/** The form under which two names collide: '.' and '_' are the same character here. */
export function collisionKey(name: string): string {
  return name.replace(/\./g, '_');
}

export function isInternalTopic(name: string): boolean {
  return name === '__consumer_offsets' || name === '__transaction_state';
}

/** A random (version 4) topic id in Kafka's display form; like Kafka, never one whose text
 * starts with '-' (it would read as a command-line flag) and never the reserved zero id. */
export function newTopicId(): string {
  for (;;) {
    const bytes = randomBytes(16);
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const id = bytes.toString('base64url');
    if (!id.startsWith('-') && id !== ZERO_UUID) return id;
  }
}
