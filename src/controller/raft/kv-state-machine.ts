// The replicated state machine of the KRaft tests: a small key-value map whose commands are
// JSON in the batches' data, with digests of the applied sequence (a hash chain over the
// batches, equal to the log's prefix digest at the applied offset) and of the map's content.
// Its snapshot is the map plus the chain, so a replica that installs one can be compared too.
import type { RaftBatch } from './types.js';

/** Two FNV-1a 32-bit hashes with different bases: a 64-bit digest as 16 hex digits. */
export function digestString(s: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 13);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

function batchIdentity(b: RaftBatch): string {
  return b.control !== undefined ? `lc:${b.control.leaderId}:${b.control.grantingVoters.join(',')}` : b.data.toString('latin1');
}

/** Digest of the prefix ending with `batch`, given the digest of the prefix before it. */
export function prefixDigest(previous: string, batch: RaftBatch): string {
  return digestString(`${previous}|${batch.baseOffset}-${batch.lastOffset}@${batch.epoch}:${batchIdentity(batch)}`);
}

export interface KvCommand {
  readonly id: string;
  readonly k: number;
  readonly v: number;
}

interface KvSnapshot {
  readonly applied: number;
  readonly chain: string;
  readonly kv: ReadonlyArray<readonly [number, number]>;
}

export class KvStateMachine {
  applied = 0;
  /** Prefix digest of everything applied (equals the log's digest at `applied`). */
  chain = '';
  private readonly kv = new Map<number, number>();

  apply(batch: RaftBatch): void {
    if (batch.baseOffset !== this.applied) throw new Error(`state machine at ${this.applied} given batch ${batch.baseOffset}`);
    if (batch.control === undefined) {
      const cmd = JSON.parse(batch.data.toString('utf8')) as KvCommand;
      this.kv.set(cmd.k, cmd.v);
    }
    this.chain = prefixDigest(this.chain, batch);
    this.applied = batch.lastOffset + 1;
  }

  snapshot(): Buffer {
    const s: KvSnapshot = { applied: this.applied, chain: this.chain, kv: [...this.kv].sort((x, y) => x[0] - y[0]) };
    return Buffer.from(JSON.stringify(s));
  }

  load(bytes: Buffer): void {
    const s = JSON.parse(bytes.toString('utf8')) as KvSnapshot;
    this.kv.clear();
    for (const [k, v] of s.kv) this.kv.set(k, v);
    this.applied = s.applied;
    this.chain = s.chain;
  }

  contentDigest(): string {
    return digestString(JSON.stringify([...this.kv].sort((x, y) => x[0] - y[0])));
  }

  static snapshotChain(bytes: Buffer): string {
    return (JSON.parse(bytes.toString('utf8')) as KvSnapshot).chain;
  }
}
