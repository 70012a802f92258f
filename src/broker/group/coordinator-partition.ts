// Which partition of __consumer_offsets coordinates a group: abs(hashCode(groupId)) % partitions,
// with Java's String.hashCode (UTF-16 code units, 32-bit wrap-around) so that a group maps to
// the same partition as on a Kafka cluster with the same partition count. Kafka's Utils.abs
// is Math.abs except that Integer.MIN_VALUE maps to 0.

export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';

/** Java's String.hashCode: s[0]*31^(n-1) + ... + s[n-1], in 32-bit two's complement. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

export function coordinatorPartitionFor(groupId: string, numPartitions: number): number {
  const h = javaStringHashCode(groupId);
  return (h === -2147483648 ? 0 : Math.abs(h)) % numPartitions;
}
