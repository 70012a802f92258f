// RaftBatch <-> record batch bytes, for the driver: the metadata log stores and the Fetch RPC
// carries batches as Kafka frames them (magic 2, partitionLeaderEpoch = the Raft epoch), while
// the core sees only offsets, epochs and opaque `data`. Batches the core writes itself (the
// LeaderChange control batch) come with an empty `data` and `control` set; they are encoded here.
import { LeaderChangeMessage } from '../../protocol/messages/LeaderChangeMessage.js';
import { ATTR_CONTROL, RECORD_BATCH_OVERHEAD, readBatchHeader, type BatchHeader } from '../../protocol/records/batch-header.js';
import { decodeControlRecordKey, decodeRecordBatch, forEachBatch, setBaseOffset, setPartitionLeaderEpoch, validateBatch } from '../../protocol/records/record-batch.js';
import { encodeLeaderChangeBatch, KRaftControlRecordType } from './snapshot-file.js';
import type { ControlRecord, RaftBatch } from './types.js';

export class RaftBatchFormatError extends Error {
  override name = 'RaftBatchFormatError';
}

/**
 * The bytes of `batch` with its baseOffset and epoch in the header. A proposal's `data` is
 * patched in place (the proposer handed it over: it was encoded at offset 0); `data` that already
 * carries the right header (read from storage, fetched) is returned as it is.
 */
export function raftBatchBytes(batch: RaftBatch): Buffer {
  if (batch.data.length === 0) {
    if (batch.control === undefined) throw new RaftBatchFormatError(`batch ${batch.baseOffset}..${batch.lastOffset} has neither data nor a control record`);
    return encodeLeaderChangeBatch(batch.baseOffset, batch.epoch, batch.appendTimeMs, batch.control);
  }
  const data = batch.data;
  if (data.length < RECORD_BATCH_OVERHEAD) throw new RaftBatchFormatError(`batch at ${batch.baseOffset}: ${data.length} bytes, shorter than a batch header`);
  const header = readBatchHeader(data, 0);
  if (header.sizeInBytes !== data.length) throw new RaftBatchFormatError(`batch at ${batch.baseOffset}: ${data.length} bytes hold a batch of ${header.sizeInBytes} (one batch per proposal)`);
  if (header.lastOffsetDelta !== batch.lastOffset - batch.baseOffset) {
    throw new RaftBatchFormatError(`batch at ${batch.baseOffset}: ${header.lastOffsetDelta + 1} records in the bytes, ${batch.lastOffset - batch.baseOffset + 1} proposed`);
  }
  if (header.baseOffset !== BigInt(batch.baseOffset)) setBaseOffset(data, 0, BigInt(batch.baseOffset));
  if (header.partitionLeaderEpoch !== batch.epoch) setPartitionLeaderEpoch(data, 0, batch.epoch);
  return data;
}

/** The KRaft control record a control batch holds, if it is one the core reads (LeaderChange). */
function controlOf(buf: Buffer, pos: number, header: BatchHeader, where: string): ControlRecord | undefined {
  if ((header.attributes & ATTR_CONTROL) === 0) return undefined;
  const decoded = decodeRecordBatch(buf, pos, { skipCrcCheck: true });
  const record = decoded.records[0];
  if (record === undefined) return undefined;
  if (decodeControlRecordKey(record.key).type !== KRaftControlRecordType.LeaderChange) return undefined;
  if (record.value === null) throw new RaftBatchFormatError(`${where}: LeaderChange control record without a value`);
  const msg = LeaderChangeMessage.fromBuffer(record.value, 0);
  return { type: 'leaderChange', leaderId: msg.leaderId, voters: msg.voters.map((v) => v.voterId), grantingVoters: msg.grantingVoters.map((v) => v.voterId) };
}

/**
 * The whole batches in `buf` as RaftBatches (a trailing partial batch is ignored, as in a Fetch
 * response). `data` is a view into `buf`. With `checkCrc` (bytes from the network), a batch that
 * fails its CRC throws. `where` names the source in errors.
 */
export function raftBatchesFromBytes(buf: Buffer, where: string, checkCrc: boolean): RaftBatch[] {
  const out: RaftBatch[] = [];
  forEachBatch(buf, (header, pos) => {
    if (checkCrc) validateBatch(buf, pos);
    if (header.magic !== 2) throw new RaftBatchFormatError(`${where}: batch at byte ${pos} has magic ${header.magic}`);
    const baseOffset = Number(header.baseOffset);
    const control = controlOf(buf, pos, header, `${where}: batch at ${baseOffset}`);
    out.push({
      baseOffset,
      lastOffset: baseOffset + header.lastOffsetDelta,
      epoch: header.partitionLeaderEpoch,
      appendTimeMs: Number(header.maxTimestamp),
      data: buf.subarray(pos, pos + header.sizeInBytes),
      ...(control !== undefined ? { control } : {}),
    });
  });
  return out;
}
