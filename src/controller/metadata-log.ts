// The metadata log: KRaft metadata records framed as Kafka frames them (frame version, record
// type and record version as unsigned varints, then the record) and stored as the values of
// record batches in the `__cluster_metadata-0` partition. With a single voter a record is
// committed once its batch is durably appended; the cluster work extends this with Raft.
import { Reader, Writer } from '../protocol/codec/index.js';
import { metadataRecordByType } from '../protocol/messages/index.js';
import { decodeRecordBatch, encodeRecordBatch, type DecodedBatch } from '../protocol/records/record-batch.js';
import { readUnsignedVarint } from '../protocol/varint.js';
import { StorageStartupError } from '../storage/errors.js';
import type { MetadataRecord } from './metadata-image.js';

export const METADATA_TOPIC = '__cluster_metadata';
const FRAME_VERSION = 1;

/** Where the metadata log's batches live; appends must be durable when they return. */
export interface MetadataLogStore {
  /** Appends one batch and returns the offset of its first record. */
  append(batch: Buffer): number;
  /** Every stored batch from the start, in order. */
  readAll(): Iterable<Buffer>;
  /** The first offset readAll() returns and one past the last: when known, a replay must cover
   *  them all. */
  readonly startOffset?: number;
  readonly endOffset?: number;
  /** Where `offset` is stored (file and byte position), for a message about damage there. */
  locate?(offset: number): { file: string; position: number | null } | null;
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
  constructor(
    private readonly store: MetadataLogStore,
    /** Sees every record replay() yields; the broker learns from it which topic ids were removed. */
    private readonly onReplayed: (record: MetadataRecord) => void = () => {},
  ) {}

  /** Appends records as one batch (atomically: all or none are replayed after a crash). */
  append(records: readonly MetadataRecord[], timestampMs: number): void {
    const batch = encodeRecordBatch({
      records: records.map((r) => ({ key: null, value: encodeMetadataRecord(r), timestamp: BigInt(timestampMs) })),
    });
    this.store.append(batch);
  }

  /**
   * Every committed record, in order. Throws a StorageStartupError naming the file and position
   * when a batch or record does not decode, or when the readable batches end before the log
   * does: a partial replay would be a different cluster (topics missing, deleted ones back).
   */
  *replay(): Iterable<MetadataRecord> {
    let next = this.store.startOffset ?? 0;
    for (const chunk of this.store.readAll()) {
      let pos = 0;
      while (pos < chunk.length) {
        let batch: DecodedBatch;
        try {
          batch = decodeRecordBatch(chunk, pos);
        } catch (err) {
          throw this.damaged(next, `the record batch does not decode: ${(err as Error).message}`);
        }
        for (const rec of batch.records) {
          if (rec.value === null) continue;
          let record: MetadataRecord;
          try {
            record = decodeMetadataRecord(rec.value);
          } catch (err) {
            throw this.damaged(Number(rec.offset), `the metadata record does not decode: ${(err as Error).message}`);
          }
          this.onReplayed(record);
          yield record;
        }
        pos += batch.header.sizeInBytes;
        next = Number(batch.header.baseOffset) + batch.header.lastOffsetDelta + 1;
      }
    }
    if (this.store.endOffset !== undefined && next < this.store.endOffset) {
      throw this.damaged(next, `no readable record batch holds offset ${next}, below the log end offset ${this.store.endOffset}`);
    }
  }

  private damaged(offset: number, reason: string): StorageStartupError {
    const at = this.store.locate?.(offset) ?? null;
    const where = at === null ? `offset ${offset}` : `${at.file}${at.position === null ? '' : ` at position ${at.position}`} (offset ${offset})`;
    return new StorageStartupError(
      `The metadata log is damaged: ${where}: ${reason}. Refusing to start: the metadata log says which topics exist, ` +
        'and a broker that replayed only part of it would serve the wrong ones.',
      at?.file ?? '',
    );
  }
}
