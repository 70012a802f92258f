// KIP-588: PRODUCER_FENCED (90) is answered only from the request version that added it; older
// versions get INVALID_PRODUCER_EPOCH (47), as Kafka's handlers translate it: InitProducerId v4,
// AddPartitionsToTxn v2, AddOffsetsToTxn v2, EndTxn v2, TxnOffsetCommit v3.
import { ErrorCode } from '../../protocol/errors.js';

export function fencedErrorFor(errorCode: number, apiVersion: number, fencedSince: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && apiVersion < fencedSince ? ErrorCode.INVALID_PRODUCER_EPOCH : errorCode;
}
