// Metadata snapshots as Kafka writes them (KIP-630): a file `<endOffset>-<epoch>.checkpoint`
// (20 and 10 digits) in the `__cluster_metadata-0` directory, written as `.checkpoint.part` and
// renamed once complete. The file is a sequence of record batches stamped with the snapshot's
// epoch and offsets from 0: first a control batch holding the SnapshotHeaderRecord, then the
// state as metadata records, last a control batch holding the SnapshotFooterRecord. Also the
// LeaderChangeMessage control batch a new leader appends to the log. Pure bytes in, bytes out:
// the driver does the file I/O.
import { LeaderChangeMessage } from '../../protocol/messages/LeaderChangeMessage.js';
import { SnapshotFooterRecord } from '../../protocol/messages/SnapshotFooterRecord.js';
import { SnapshotHeaderRecord } from '../../protocol/messages/SnapshotHeaderRecord.js';
import { ATTR_CONTROL } from '../../protocol/records/batch-header.js';
import { decodeControlRecordKey, decodeRecordBatches, encodeControlRecordKey, encodeRecordBatch } from '../../protocol/records/record-batch.js';
import type { ControlRecord, SnapshotId } from './types.js';

/** Kafka's ControlRecordType values of KRaft's control records. */
export const KRaftControlRecordType = {
  LeaderChange: 2,
  SnapshotHeader: 3,
  SnapshotFooter: 4,
  KRaftVersion: 5,
  KRaftVoters: 6,
} as const;

const CONTROL_KEY_VERSION = 0;
const CONTROL_RECORD_VERSION = 0;

export const SNAPSHOT_SUFFIX = '.checkpoint';
export const PARTIAL_SNAPSHOT_SUFFIX = '.checkpoint.part';

export class SnapshotFormatError extends Error {
  override name = 'SnapshotFormatError';
}

export function snapshotFileName(id: SnapshotId): string {
  return `${String(id.endOffset).padStart(20, '0')}-${String(id.epoch).padStart(10, '0')}${SNAPSHOT_SUFFIX}`;
}

/** The id a complete snapshot's file name carries, or undefined for other files. */
export function parseSnapshotFileName(name: string): SnapshotId | undefined {
  const m = /^(\d{20})-(\d{10})\.checkpoint$/.exec(name);
  if (m === null) return undefined;
  const endOffset = Number(m[1]);
  const epoch = Number(m[2]);
  if (!Number.isSafeInteger(endOffset) || epoch > 0x7fffffff) return undefined;
  return { endOffset, epoch };
}

function controlBatch(baseOffset: number, epoch: number, timestampMs: number, type: number, value: Buffer): Buffer {
  return encodeRecordBatch({
    records: [{ key: encodeControlRecordKey({ version: CONTROL_KEY_VERSION, type }), value, headers: [], timestamp: timestampMs }],
    baseOffset,
    baseTimestamp: timestampMs,
    partitionLeaderEpoch: epoch,
    control: true,
  });
}

/** The control batch a new leader appends (LeaderChangeMessage v0). */
export function encodeLeaderChangeBatch(baseOffset: number, epoch: number, timestampMs: number, control: ControlRecord): Buffer {
  const voter = (voterId: number) => ({ ...LeaderChangeMessage.newStruct('Voter'), voterId });
  const value = LeaderChangeMessage.toBuffer(CONTROL_RECORD_VERSION, {
    version: CONTROL_RECORD_VERSION,
    leaderId: control.leaderId,
    voters: control.voters.map(voter),
    grantingVoters: control.grantingVoters.map(voter),
  });
  return controlBatch(baseOffset, epoch, timestampMs, KRaftControlRecordType.LeaderChange, value);
}

export interface SnapshotContent {
  readonly id: SnapshotId;
  /** SnapshotHeaderRecord.LastContainedLogTimestamp: append time of the last entry it holds. */
  readonly lastContainedLogTimestampMs: number;
  /** When the snapshot is written (the batches' timestamps). */
  readonly timestampMs: number;
  /** The state: record values, batch by batch. */
  readonly batches: ReadonlyArray<ReadonlyArray<Buffer>>;
}

/** The bytes of a `.checkpoint` file. */
export function encodeSnapshot(s: SnapshotContent): Buffer {
  const epoch = s.id.epoch;
  const parts: Buffer[] = [];
  let offset = 0;
  const header = SnapshotHeaderRecord.toBuffer(CONTROL_RECORD_VERSION, { version: CONTROL_RECORD_VERSION, lastContainedLogTimestamp: BigInt(s.lastContainedLogTimestampMs) });
  parts.push(controlBatch(offset++, epoch, s.timestampMs, KRaftControlRecordType.SnapshotHeader, header));
  for (const values of s.batches) {
    if (values.length === 0) continue;
    parts.push(encodeRecordBatch({
      records: values.map((value) => ({ key: null, value, headers: [], timestamp: s.timestampMs })),
      baseOffset: offset,
      baseTimestamp: s.timestampMs,
      partitionLeaderEpoch: epoch,
    }));
    offset += values.length;
  }
  const footer = SnapshotFooterRecord.toBuffer(CONTROL_RECORD_VERSION, { version: CONTROL_RECORD_VERSION });
  parts.push(controlBatch(offset, epoch, s.timestampMs, KRaftControlRecordType.SnapshotFooter, footer));
  return Buffer.concat(parts);
}

export interface DecodedSnapshot {
  readonly lastContainedLogTimestampMs: bigint;
  /** The state's record values, in order. */
  readonly records: Buffer[];
}

/**
 * Reads a `.checkpoint` file: a header control batch first, a footer control batch last, data
 * in between (KRaft version and voters control records after the header are skipped). Throws
 * SnapshotFormatError naming what is wrong; a CRC or framing error throws from the decoder.
 */
export function decodeSnapshot(bytes: Buffer, name = 'snapshot'): DecodedSnapshot {
  const batches = decodeRecordBatches(bytes);
  const first = batches[0];
  const last = batches[batches.length - 1];
  const controlType = (b: (typeof batches)[number]): number | undefined =>
    (b.header.attributes & ATTR_CONTROL) !== 0 && b.records.length > 0 ? decodeControlRecordKey(b.records[0]!.key).type : undefined;
  if (first === undefined || controlType(first) !== KRaftControlRecordType.SnapshotHeader) throw new SnapshotFormatError(`${name}: does not start with a SnapshotHeaderRecord`);
  if (batches.length < 2 || controlType(last!) !== KRaftControlRecordType.SnapshotFooter) throw new SnapshotFormatError(`${name}: does not end with a SnapshotFooterRecord (incomplete?)`);
  const header = SnapshotHeaderRecord.fromBuffer(first.records[0]!.value!, CONTROL_RECORD_VERSION);
  const records: Buffer[] = [];
  for (const b of batches.slice(1, -1)) {
    if ((b.header.attributes & ATTR_CONTROL) !== 0) continue;
    for (const r of b.records) {
      if (r.value === null) throw new SnapshotFormatError(`${name}: record at offset ${r.offset} has no value`);
      records.push(r.value);
    }
  }
  return { lastContainedLogTimestampMs: header.lastContainedLogTimestamp, records };
}
