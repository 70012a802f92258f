// A single voter's metadata snapshots: when one is due, that writing one deletes the log's whole
// segments below it and older snapshots, and what start-up loads — the latest readable snapshot,
// an older one or the whole log when it is damaged, and a refusal when nothing covers the state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pino } from 'pino';
import { METADATA_TOPIC } from '../metadata/topic-names.js';
import { MetadataRecordType, type MetadataRecord } from '../metadata/records.js';
import { partitionMetadataStore } from '../node/broker.js';
import { defaultLogConfig } from '../storage/config.js';
import { StorageStartupError } from '../storage/errors.js';
import { PartitionLog } from '../storage/partition-log.js';
import { MetadataLog } from './metadata-log.js';
import { writeSnapshotFile } from './raft/disk-raft-storage.js';
import { snapshotDue } from './raft/quorum-config.js';
import { encodeSnapshot, parseSnapshotFileName, snapshotFileName } from './raft/snapshot-file.js';
import { encodeMetadataRecord } from './metadata-log.js';
import { SingleVoterSnapshots } from './single-voter-snapshots.js';

const topicId = (i: number): string => {
  const b = Buffer.alloc(16, 1);
  b.writeUInt32BE(i, 0);
  return b.toString('base64url');
};
const topic = (i: number): MetadataRecord => ({ type: MetadataRecordType.TopicRecord, version: 0, data: { name: `topic-${i}`, topicId: topicId(i) } });
const names = (records: readonly MetadataRecord[]) => records.map((r) => (r.data as { name: string }).name);
const noPause = () => Promise.resolve();

class Fixture {
  readonly logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'single-voter-snapshots-'));
  readonly dir = path.join(this.logDir, `${METADATA_TOPIC}-0`);
  readonly lines: string[] = [];
  readonly logger = pino({ level: 'info' }, { write: (s: string) => this.lines.push(s) });
  store!: PartitionLog;
  snapshots!: SingleVoterSnapshots;
  metadataLog!: MetadataLog;
  /** Every record appended, in order: the "image" a snapshot holds. */
  readonly appended: MetadataRecord[] = [];
  now = 1_000;

  open(snapshotMinBytes = 2048): void {
    this.store = PartitionLog.open(this.logDir, METADATA_TOPIC, 0, defaultLogConfig({ retentionMs: -1, segmentBytes: 1024 }), undefined, { strictRecovery: true, hadCleanShutdown: true });
    this.snapshots = SingleVoterSnapshots.open({ dir: this.dir, store: this.store, log: this.logger, snapshotMinBytes, snapshotIntervalMs: 60_000, nowMs: () => this.now });
    this.metadataLog = new MetadataLog(partitionMetadataStore(this.store, this.snapshots));
  }
  reopen(snapshotMinBytes?: number): void {
    this.store.close();
    this.open(snapshotMinBytes);
  }
  append(from: number, count: number): void {
    for (let i = from; i < from + count; i++) {
      this.appended.push(topic(i));
      this.metadataLog.append([topic(i)], this.now);
    }
  }
  image = () => ({ records: [...this.appended], offset: BigInt(this.store.logEndOffset - 1) });
  checkpoints(): number[] {
    return fs.readdirSync(this.dir).map(parseSnapshotFileName).filter((id) => id !== undefined).map((id) => id.endOffset);
  }
  segments(): number {
    return fs.readdirSync(this.dir).filter((f) => f.endsWith('.log')).length;
  }
  /** The records start-up replays: the loaded snapshot's, then the log's from its end. */
  replayed(): MetadataRecord[] {
    const out = [...this.snapshots.takeLoadedRecords()];
    this.metadataLog.replay((r) => out.push(r));
    return out;
  }
}

test('snapshotDue: after the byte threshold, or after the interval with new records only', () => {
  const cfg = { snapshotMinBytes: 100, snapshotIntervalMs: 1000 };
  assert.equal(snapshotDue(cfg, 99, 0, 500), false);
  assert.equal(snapshotDue(cfg, 100, 0, 500), true);
  assert.equal(snapshotDue(cfg, 1, 0, 1000), true);
  assert.equal(snapshotDue(cfg, 0, 0, 5000), false, 'no new records: no snapshot however long ago');
  assert.equal(snapshotDue({ ...cfg, snapshotIntervalMs: 0 }, 1, 0, 1e9), false, 'interval 0 is off');
});

test('a snapshot is written once due; whole segments below it and older snapshots go', async () => {
  const f = new Fixture();
  f.open();
  f.append(0, 5);
  assert.equal(await f.snapshots.maybeSnapshot(f.image, noPause), null, 'below the byte threshold');
  f.append(5, 60);
  const segmentsBefore = f.segments();
  assert.ok(segmentsBefore > 3, `small segments: ${segmentsBefore}`);
  const first = await f.snapshots.maybeSnapshot(f.image, noPause);
  assert.deepEqual(first, { endOffset: 65, epoch: 0 });
  assert.deepEqual(f.checkpoints(), [65]);
  assert.equal(f.store.logStartOffset, 65);
  assert.ok(f.segments() < segmentsBefore, 'segments below the snapshot were deleted');
  assert.ok(f.lines.some((l) => l.includes('"msg":"wrote a metadata snapshot"') && l.includes('"endOffset":65')));
  assert.equal(await f.snapshots.maybeSnapshot(f.image, noPause), null, 'nothing new');

  f.append(65, 60);
  assert.deepEqual(await f.snapshots.maybeSnapshot(f.image, noPause), { endOffset: 125, epoch: 0 });
  assert.deepEqual(f.checkpoints(), [125], 'the older snapshot is deleted');

  // The interval trigger: few bytes, but the interval passed.
  f.append(125, 1);
  assert.equal(await f.snapshots.maybeSnapshot(f.image, noPause), null);
  f.now += 60_000;
  assert.deepEqual(await f.snapshots.maybeSnapshot(f.image, noPause), { endOffset: 126, epoch: 0 });

  f.append(126, 3);
  f.reopen();
  assert.deepEqual(names(f.replayed()), names(f.appended), 'snapshot then the log from its end');
  assert.equal(f.store.logStartOffset, 126);
  assert.ok(f.lines.some((l) => l.includes('"msg":"loading a metadata snapshot"') && l.includes('"endOffset":126')));
});

test('start-up: a leftover .part is deleted, never loaded', () => {
  const f = new Fixture();
  f.open();
  f.append(0, 3);
  fs.writeFileSync(path.join(f.dir, snapshotFileName({ endOffset: 3, epoch: 0 }) + '.part'), 'half');
  f.reopen();
  assert.deepEqual(names(f.replayed()), names(f.appended));
  assert.ok(!fs.readdirSync(f.dir).some((n) => n.endsWith('.part')));
});

function snapshotBytes(records: readonly MetadataRecord[], endOffset: number): Buffer {
  return encodeSnapshot({ id: { endOffset, epoch: 0 }, lastContainedLogTimestampMs: 0, timestampMs: 0, batches: [records.map(encodeMetadataRecord)] });
}

function corrupt(file: string): void {
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 20]! ^= 0xff; // inside the footer batch: its CRC no longer matches
  fs.writeFileSync(file, bytes);
}

test('start-up: a damaged latest snapshot falls back to an older one the log continues', () => {
  const f = new Fixture();
  f.open();
  f.append(0, 10);
  writeSnapshotFile(f.dir, { endOffset: 4, epoch: 0 }, snapshotBytes(f.appended.slice(0, 4), 4));
  writeSnapshotFile(f.dir, { endOffset: 8, epoch: 0 }, snapshotBytes(f.appended.slice(0, 8), 8));
  corrupt(path.join(f.dir, snapshotFileName({ endOffset: 8, epoch: 0 })));
  f.reopen();
  assert.deepEqual(names(f.replayed()), names(f.appended));
  assert.equal(f.store.logStartOffset, 4);
  assert.ok(f.lines.some((l) => l.includes('skipping a damaged metadata snapshot') && l.includes('00000000000000000008-0000000000.checkpoint')));
});

test('start-up: a damaged only snapshot falls back to the whole log while it starts at 0', () => {
  const f = new Fixture();
  f.open();
  f.append(0, 10);
  writeSnapshotFile(f.dir, { endOffset: 8, epoch: 0 }, snapshotBytes(f.appended.slice(0, 8), 8));
  corrupt(path.join(f.dir, snapshotFileName({ endOffset: 8, epoch: 0 })));
  f.reopen();
  assert.deepEqual(names(f.replayed()), names(f.appended));
  assert.ok(f.lines.some((l) => l.includes('replaying the whole metadata log')));
});

test('start-up: a damaged snapshot with the log below it gone stops, naming the directory', async () => {
  const f = new Fixture();
  f.open();
  f.append(0, 70);
  assert.notEqual(await f.snapshots.maybeSnapshot(f.image, noPause), null);
  corrupt(path.join(f.dir, snapshotFileName({ endOffset: 70, epoch: 0 })));
  f.store.close();
  assert.throws(() => f.open(), (err: unknown) => err instanceof StorageStartupError && err.message.includes(f.dir) && err.message.includes('no readable snapshot'));
});
