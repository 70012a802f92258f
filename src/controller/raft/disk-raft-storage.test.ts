// The on-disk storage of the KRaft core: Ready's writes land in `__cluster_metadata-0`, the
// quorum-state file and `.checkpoint` snapshots, and a restart rebuilds the same shape (and a
// RaftNode from it), also after a torn tail or a crash in the middle of a snapshot's life.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { METADATA_TOPIC } from '../../metadata/topic-names.js';
import { encodeRecordBatch } from '../../protocol/records/record-batch.js';
import { defaultLogConfig } from '../../storage/config.js';
import { PartitionLog } from '../../storage/partition-log.js';
import { DiskRaftStorage } from './disk-raft-storage.js';
import { RaftNode, type Ready } from './raft-node.js';
import type { RaftBatch } from './types.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'raft-disk-'));
}

class Fixture {
  log!: PartitionLog;
  storage!: DiskRaftStorage;
  readonly partitionDir: string;
  constructor(readonly logDir: string, readonly voters: readonly number[] = [1]) {
    this.partitionDir = path.join(logDir, `${METADATA_TOPIC}-0`);
    this.open();
  }
  open(opts: { clean?: boolean } = {}): void {
    this.log = PartitionLog.open(this.logDir, METADATA_TOPIC, 0, defaultLogConfig({ retentionMs: -1, segmentBytes: 1024 }), undefined, {
      strictRecovery: true,
      hadCleanShutdown: opts.clean ?? false,
      ...(opts.clean === false ? { recoveryPointOffset: 0 } : {}),
    });
    this.storage = DiskRaftStorage.open({ dir: this.partitionDir, store: this.log, voters: this.voters });
  }
  reopen(opts: { clean?: boolean } = {}): void {
    this.storage.close();
    this.log.close();
    this.open(opts);
  }
  /** Contract items a, b, f for every Ready (single voter: nothing is sent). */
  drive(node: RaftNode): Ready[] {
    const out: Ready[] = [];
    for (let r = node.ready(); r !== undefined; r = node.ready()) {
      if (r.electionState !== undefined) this.storage.writeElectionState(r.electionState);
      for (const op of r.logOps) this.storage.applyLogOp(op);
      this.storage.sync();
      node.persisted(r.seq);
      out.push(r);
    }
    return out;
  }
  node(now = 0): RaftNode {
    const electionState = this.storage.electionState();
    return new RaftNode({ nodeId: 1, voters: this.voters, log: this.storage, random: () => 0, nowMs: now, ...(electionState !== undefined ? { electionState } : {}) });
  }
}

function payload(n: number, tag: string): Buffer {
  return encodeRecordBatch({ records: Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`${tag}-${i}`), timestamp: 1000 })) });
}

function committedBatches(readys: readonly Ready[]): RaftBatch[] {
  return readys.flatMap((r) => r.committed.flatMap((c) => (c.type === 'batch' ? [c.batch] : [])));
}

test('a single voter\'s Readys land on disk: quorum-state, the LeaderChange control batch and proposals, and a restart sees the same log', () => {
  const f = new Fixture(tempDir());
  let node = f.node();
  f.drive(node);
  assert.equal(node.status().role, 'leader');
  const r = node.propose({ data: payload(3, 'a'), recordCount: 3 }, 1);
  assert.equal(r.status, 'appended');
  node.propose({ data: payload(2, 'b'), recordCount: 2 }, 2);
  const readys = f.drive(node);
  // The LeaderChange at 0, then 1..3 and 4..5, all committed (one voter).
  assert.deepEqual(committedBatches(readys).map((b) => [b.baseOffset, b.lastOffset]), [[1, 3], [4, 5]]);
  const qs = JSON.parse(fs.readFileSync(path.join(f.partitionDir, 'quorum-state'), 'utf8'));
  assert.deepEqual([qs.leaderId, qs.leaderEpoch, qs.votedId], [1, 1, 1]);

  f.reopen({ clean: false });
  assert.deepEqual(f.storage.logStart(), { offset: 0, epoch: 0 });
  assert.equal(f.storage.endOffset(), 6);
  assert.deepEqual(f.storage.epochStarts(), [{ epoch: 1, startOffset: 0 }]);
  assert.deepEqual(f.storage.electionState(), { epoch: 1, votedId: 1, leaderId: 1 });
  const [lc, a] = f.storage.read(0, 1 << 20);
  assert.deepEqual(lc!.control, { type: 'leaderChange', leaderId: 1, voters: [1], grantingVoters: [1] });
  assert.equal(a!.baseOffset, 1);
  assert.equal(a!.data.readInt32BE(12), 1, 'partitionLeaderEpoch is the Raft epoch');
  // Contract item 4: a node rebuilt from disk leads a new epoch after the old one.
  node = f.node(10);
  const again = f.drive(node);
  assert.equal(node.status().epoch, 2);
  assert.equal(node.status().role, 'leader');
  assert.deepEqual(committedBatches(again).map((b) => b.baseOffset), [0, 1, 4, 6]);
  f.reopen();
  assert.deepEqual(f.storage.epochStarts(), [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 6 }]);
});

test('a torn last batch is cut on restart and the epoch cache and end offset follow', () => {
  const f = new Fixture(tempDir());
  const node = f.node();
  f.drive(node);
  for (let i = 0; i < 5; i++) node.propose({ data: payload(2, `p${i}`), recordCount: 2 }, i);
  f.drive(node);
  assert.equal(f.storage.endOffset(), 11);
  f.reopen(); // to get the files closed
  f.storage.close();
  f.log.close();
  const segment = fs.readdirSync(f.partitionDir).filter((n) => n.endsWith('.log')).sort().at(-1)!;
  const file = path.join(f.partitionDir, segment);
  fs.truncateSync(file, fs.statSync(file).size - 7);
  fs.rmSync(path.join(f.logDir, '.kafka_cleanshutdown'), { force: true });
  f.open({ clean: false });
  assert.equal(f.storage.endOffset(), 9, 'the torn batch 9..10 is gone');
  assert.deepEqual(f.storage.epochStarts(), [{ epoch: 1, startOffset: 0 }]);
  const rebuilt = f.node(100);
  // It elects itself at once and appends its LeaderChange where the log now ends.
  assert.deepEqual([rebuilt.status().epoch, rebuilt.status().logEndOffset], [2, 10]);
});

test('a truncation of the tail (divergence) is written and survives a restart', () => {
  const f = new Fixture(tempDir());
  f.storage.writeElectionState({ epoch: 3, votedId: -1, leaderId: 2 });
  const batch = (base: number, epoch: number, n: number): RaftBatch => ({ baseOffset: base, lastOffset: base + n - 1, epoch, appendTimeMs: 5, data: payload(n, `e${epoch}`) });
  f.storage.applyLogOp({ type: 'append', batch: batch(0, 1, 2) });
  f.storage.applyLogOp({ type: 'append', batch: batch(2, 2, 3) });
  f.storage.applyLogOp({ type: 'append', batch: batch(5, 2, 1) });
  f.storage.applyLogOp({ type: 'truncate', toOffset: 5 });
  f.storage.applyLogOp({ type: 'append', batch: batch(5, 3, 1) });
  f.storage.sync();
  f.reopen({ clean: false });
  assert.equal(f.storage.endOffset(), 6);
  assert.deepEqual(f.storage.epochStarts(), [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 2 }, { epoch: 3, startOffset: 5 }]);
  assert.deepEqual(f.storage.read(2, 1).map((b) => [b.baseOffset, b.lastOffset, b.epoch]), [[2, 4, 2]], 'at least one batch, whole');
});

test('snapshots: written as .checkpoint, the prefix goes, and a crash before the prefix went is aligned on restart', () => {
  const f = new Fixture(tempDir(), [1, 2, 3]);
  f.storage.writeElectionState({ epoch: 2, votedId: -1, leaderId: 2 });
  for (let i = 0; i < 40; i++) f.storage.applyLogOp({ type: 'append', batch: { baseOffset: i * 5, lastOffset: i * 5 + 4, epoch: i < 20 ? 1 : 2, appendTimeMs: 0, data: payload(5, `x${i}`) } });
  f.storage.sync();
  assert.ok(f.log.segmentCount > 2, 'several segments');
  f.storage.writeSnapshot({ endOffset: 100, epoch: 1 }, Buffer.from('snapshot at 100'));
  // Crash here: the prefix truncation was not applied.
  f.reopen({ clean: false });
  assert.deepEqual(f.storage.logStart(), { offset: 100, epoch: 1 });
  assert.deepEqual(f.storage.epochStarts(), [{ epoch: 2, startOffset: 100 }]);
  assert.deepEqual(f.storage.latestSnapshot(), { endOffset: 100, epoch: 1 });
  assert.equal(f.storage.read(100, 1)[0]!.baseOffset, 100);

  f.storage.writeSnapshot({ endOffset: 150, epoch: 2 }, Buffer.from('snapshot at 150'));
  f.storage.applyLogOp({ type: 'truncatePrefix', snapshotId: { endOffset: 150, epoch: 2 } });
  f.storage.sync();
  assert.deepEqual(fs.readdirSync(f.partitionDir).filter((n) => n.endsWith('.checkpoint')), ['00000000000000000150-0000000002.checkpoint'], 'older snapshots go');
  assert.ok(f.log.segmentBaseOffsets()[0]! > 0, 'whole segments below the snapshot are deleted');
  f.reopen();
  assert.deepEqual(f.storage.logStart(), { offset: 150, epoch: 2 });
  assert.equal(f.storage.endOffset(), 200);
  assert.deepEqual(f.storage.readSnapshot({ endOffset: 150, epoch: 2 }, 9, 100), { size: 15, bytes: Buffer.from('at 150') });
  assert.equal(f.storage.readSnapshot({ endOffset: 100, epoch: 1 }, 0, 100), undefined);
  const node = new RaftNode({ nodeId: 1, voters: [1, 2, 3], log: f.storage, electionState: f.storage.electionState()!, random: () => 0, nowMs: 0 });
  assert.deepEqual(node.ready()?.committed, [{ type: 'snapshot', snapshotId: { endOffset: 150, epoch: 2 } }], 'the first Ready loads the latest snapshot');
});

test('a fetched snapshot is written in chunks and installed; a crash between the rename and the log reset keeps the snapshot, not the stale log', () => {
  const f = new Fixture(tempDir(), [1, 2, 3]);
  for (let i = 0; i < 4; i++) f.storage.applyLogOp({ type: 'append', batch: { baseOffset: i, lastOffset: i, epoch: 1, appendTimeMs: 0, data: payload(1, `s${i}`) } });
  const id = { endOffset: 500, epoch: 4 };
  const bytes = Buffer.from('0123456789abcdef');
  f.storage.applyLogOp({ type: 'snapshotChunk', snapshotId: id, position: 0, size: bytes.length, bytes: bytes.subarray(0, 10) });
  f.storage.sync();
  assert.ok(fs.existsSync(path.join(f.partitionDir, '00000000000000000500-0000000004.checkpoint.part')));
  // A restart drops the partial snapshot.
  f.reopen({ clean: false });
  assert.equal(fs.readdirSync(f.partitionDir).some((n) => n.endsWith('.part')), false);
  assert.equal(f.storage.endOffset(), 4);

  f.storage.applyLogOp({ type: 'snapshotChunk', snapshotId: id, position: 0, size: bytes.length, bytes: bytes.subarray(0, 10) });
  f.storage.applyLogOp({ type: 'snapshotChunk', snapshotId: id, position: 10, size: bytes.length, bytes: bytes.subarray(10) });
  f.storage.applyLogOp({ type: 'installSnapshot', snapshotId: id });
  f.storage.sync();
  assert.deepEqual([f.storage.logStart(), f.storage.endOffset(), f.storage.epochStarts()], [{ offset: 500, epoch: 4 }, 500, []]);
  assert.deepEqual(f.storage.snapshotBytes(id), bytes);
  f.reopen({ clean: false });
  assert.deepEqual([f.storage.logStart(), f.storage.endOffset()], [{ offset: 500, epoch: 4 }, 500]);

  // The crash case: a stale log of epoch 1 next to a newer snapshot of epoch 4.
  const g = new Fixture(tempDir(), [1, 2, 3]);
  for (let i = 0; i < 4; i++) g.storage.applyLogOp({ type: 'append', batch: { baseOffset: i, lastOffset: i, epoch: 1, appendTimeMs: 0, data: payload(1, `t${i}`) } });
  g.storage.sync();
  g.storage.close();
  g.log.close();
  fs.writeFileSync(path.join(g.partitionDir, '00000000000000000500-0000000004.checkpoint'), bytes);
  g.open({ clean: false });
  assert.deepEqual([g.storage.logStart(), g.storage.endOffset(), g.storage.epochStarts()], [{ offset: 500, epoch: 4 }, 500, []]);
});
