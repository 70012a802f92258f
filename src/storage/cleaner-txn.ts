// What the log cleaner knows of transactions while it walks a log from its start in offset order
// (Kafka's CleanedTransactionMetadata): which producer's data batches belong to an aborted
// transaction (from the .txnindex entries), and whether a transaction marker can go.
//
//   - a data batch of an aborted transaction is discardable, whatever its keys (Kafka's rule 3);
//   - an ABORT marker stays while any batch of its transaction was seen on this walk, and its
//     entry then goes to the cleaned segment's .txnindex (read_committed still needs it for what
//     is left); once no batch is left the marker is discardable and needs no entry;
//   - a COMMIT marker is discardable when no batch of its transaction was seen on this walk;
//   - an empty control batch (a marker the cleaner already emptied) is discardable.
// "Discardable" for a marker means the delete horizon starts: it goes delete.retention.ms later
// (cleaner-batch.ts), as tombstones do, so a consumer that read the transaction's data still
// finds its marker. A transaction still open has no entry and is never taken for aborted; the
// cleaner never walks past the last stable offset's segment anyway.
//
// State lives for one cleaning round (the walk over the groups, which starts at the log start):
// a transaction can span groups. Bounded by the transactions open or aborted along the walk.
import type { AbortedTxn } from './txn-index.js';

/** The control record types of Kafka's ControlRecordType (the key's second int16). */
export const CONTROL_TYPE_ABORT = 0;
export const CONTROL_TYPE_COMMIT = 1;

export interface MarkerFate {
  discardable: boolean;
  /** The entry the cleaned .txnindex must hold for this ABORT marker, or null. */
  indexEntry: AbortedTxn | null;
}

interface OngoingAbort {
  txn: AbortedTxn;
  /** A data batch of the transaction was seen on this walk. */
  dataSeen: boolean;
}

export class CleanedTxnState {
  /** Aborted transactions not yet reached, by firstOffset (a queue: the walk goes forward). */
  private pending: AbortedTxn[] = [];
  /** Markers (lastOffset) of the entries added and not yet consumed by their marker: an entry
   * may be handed in again with the next group's list. */
  private known = new Set<number>();
  private readonly ongoingAborted = new Map<bigint, OngoingAbort>();
  /** Producers with a transactional data batch seen since their last marker, not aborted. */
  private readonly ongoingCommitted = new Set<bigint>();

  /** Adds the aborted transactions of the next stretch of the walk (duplicates are ignored). */
  addAborted(entries: readonly AbortedTxn[]): void {
    let added = false;
    for (const e of entries) {
      if (this.known.has(e.lastOffset)) continue;
      this.known.add(e.lastOffset);
      this.pending.push(e);
      added = true;
    }
    if (added) this.pending.sort((a, b) => a.firstOffset - b.firstOffset);
  }

  /** A data batch ending at `lastOffset`; returns whether it belongs to an aborted transaction. */
  onDataBatch(producerId: bigint, transactional: boolean, lastOffset: number): boolean {
    this.reach(lastOffset);
    if (!transactional) return false;
    const aborted = this.ongoingAborted.get(producerId);
    if (aborted !== undefined) {
      aborted.dataSeen = true;
      return true;
    }
    this.ongoingCommitted.add(producerId);
    return false;
  }

  /** A control batch; `type` is its record's control type, or -1 when it holds no record. */
  onControlBatch(producerId: bigint, lastOffset: number, type: number): MarkerFate {
    this.reach(lastOffset);
    if (type < 0) return { discardable: true, indexEntry: null };
    if (type === CONTROL_TYPE_ABORT) {
      const aborted = this.ongoingAborted.get(producerId);
      if (aborted === undefined) return { discardable: true, indexEntry: null };
      this.ongoingAborted.delete(producerId);
      this.known.delete(aborted.txn.lastOffset);
      return aborted.dataSeen ? { discardable: false, indexEntry: aborted.txn } : { discardable: true, indexEntry: null };
    }
    if (type === CONTROL_TYPE_COMMIT) return { discardable: !this.ongoingCommitted.delete(producerId), indexEntry: null };
    return { discardable: false, indexEntry: null }; // a control type this broker does not know: kept
  }

  /** Aborted transactions that started at or before `offset` are ongoing from here. */
  private reach(offset: number): void {
    let i = 0;
    while (i < this.pending.length && this.pending[i]!.firstOffset <= offset) {
      const txn = this.pending[i]!;
      if (!this.ongoingAborted.has(txn.producerId)) this.ongoingAborted.set(txn.producerId, { txn, dataSeen: false });
      i++;
    }
    if (i > 0) this.pending.splice(0, i);
  }
}
