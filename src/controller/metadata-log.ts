// The metadata log: KRaft metadata records framed as Kafka frames them (frame version, record
// type and record version as unsigned varints, then the record) and stored as the values of
// record batches in the `__cluster_metadata-0` partition. With a single voter a record is
// committed once its batch is durably appended; the cluster work extends this with Raft.
import { Reader, Writer } from '../protocol/codec/index.js';
import { metadataRecordByType } from '../protocol/messages/index.js';
import { decodeRecordBatches, encodeRecordBatch } from '../protocol/records/record-batch.js';
import { readUnsignedVarint } from '../protocol/varint.js';
import type { MetadataRecord } from './metadata-image.js';

export const METADATA_TOPIC = '__cluster_metadata';
const FRAME_VERSION = 1;

/** Where the metadata log's batches live; appends must be durable when they return. */
export interface MetadataLogStore {
  /** Appends one batch and returns the offset of its first record. */
  append(batch: Buffer): number;
  /** Every stored batch from the start, in order. */
  readAll(): Iterable<Buffer>;
}

export function encodeMetadataRecord(record: MetadataRecord): Buffer {
  const desc = metadataRecordByType(record.type);
  if (desc === undefined) throw new Error(`unknown metadata record type ${record.type}`);
  const w = new Writer(64);
  w.uvarint(FRAME_VERSION);
  w.uvarint(record.type);
  w.uvarint(record.version);
  desc.codec.encode(w, record.version, record.data);
  return w.toBuffer();
}

export function decodeMetadataRecord(value: Buffer): MetadataRecord {
  let pos = 0;
  const fields: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = readUnsignedVarint(value, pos);
    if (r === null) throw new Error('truncated metadata record frame');
    fields.push(r.value);
    pos = r.next;
  }
  const [frameVersion, type, version] = fields as [number, number, number];
  if (frameVersion !== FRAME_VERSION) throw new Error(`unsupported metadata record frame version ${frameVersion}`);
  const desc = metadataRecordByType(type);
  if (desc === undefined) throw new Error(`unknown metadata record type ${type}`);
  const data = desc.codec.decode(new Reader(value, pos), version);
  return { type, version, data } as MetadataRecord;
}

export class MetadataLog {
  constructor(private readonly store: MetadataLogStore) {}

  /** Appends records as one batch (atomically: all or none are replayed after a crash); returns
   * the offset of the last one. */
  append(records: readonly MetadataRecord[], timestampMs: number): bigint {
    const batch = encodeRecordBatch({
      records: records.map((r) => ({ key: null, value: encodeMetadataRecord(r), timestamp: BigInt(timestampMs) })),
    });
    return BigInt(this.store.append(batch) + records.length - 1);
  }

  /** Every committed record, in order, with its offset in the log. */
  *replay(): Iterable<{ record: MetadataRecord; offset: bigint }> {
    for (const chunk of this.store.readAll()) {
      for (const batch of decodeRecordBatches(chunk)) {
        for (const rec of batch.records) {
          if (rec.value !== null) yield { record: decodeMetadataRecord(rec.value), offset: rec.offset };
        }
      }
    }
  }
}
