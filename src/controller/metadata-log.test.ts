import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { decodeRecordBatches } from '../protocol/records/record-batch.js';
import { defaultLogConfig } from '../storage/config.js';
import { PartitionLog } from '../storage/partition-log.js';
import { readWholeLog } from '../storage/read-whole-log.js';
import { cleanup, tmpLogDir } from '../storage/test-helpers.js';
import { MetadataRecordType, type MetadataRecord } from '../metadata/records.js';
import { METADATA_TOPIC, MetadataLog, TransactionRecordType, type MetadataLogStore } from './metadata-log.js';

const ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

function topicRecords(name: string, topicId: string, partitions: number): MetadataRecord[] {
  const out: MetadataRecord[] = [{ type: MetadataRecordType.TopicRecord, version: 0, data: { name, topicId } }];
  for (let p = 0; p < partitions; p++) {
    out.push({
      type: MetadataRecordType.PartitionRecord,
      version: 0,
      data: {
        partitionId: p, topicId, replicas: [1], isr: [1], removingReplicas: [], addingReplicas: [], leader: 1, leaderRecoveryState: 0,
        leaderEpoch: 0, partitionEpoch: 0, directories: [], eligibleLeaderReplicas: null, lastKnownElr: null,
      },
    });
  }
  return out;
}

/** The metadata log on a real partition log, flushed on every append as the broker's is. */
function diskStore(log: PartitionLog, maxBatchBytes: number, failAfterAppends = Number.POSITIVE_INFINITY): MetadataLogStore & { appends: number } {
  const store = {
    appends: 0,
    maxBatchBytes,
    append(batches: readonly Buffer[]): number {
      for (const batch of batches) {
        if (store.appends >= failAfterAppends) throw new Error('simulated crash');
        store.appends++;
        log.append(batch, { leaderEpoch: 0, assignOffsets: true });
        log.flush();
      }
      return log.logEndOffset;
    },
    readAll: () => readWholeLog(log, 1 << 20),
  };
  return store;
}

function replayAll(log: MetadataLog): { records: MetadataRecord[]; unfinishedTransaction: boolean } {
  const records: MetadataRecord[] = [];
  const end = log.replay((r) => records.push(r));
  return { records, unfinishedTransaction: end.unfinishedTransaction };
}

const open = (dir: string) => PartitionLog.open(dir, METADATA_TOPIC, 0, defaultLogConfig(), undefined, { hadCleanShutdown: false });

test('a change larger than one batch is split into a transaction and replayed whole', () => {
  const dir = tmpLogDir();
  try {
    const plog = open(dir);
    const store = diskStore(plog, 8 * 1024);
    const log = new MetadataLog(store);
    log.append(topicRecords('small', ID, 1), 1);
    log.append(topicRecords('big', 'AAAAAAAAAAAAAAAAAAAAAg', 1000), 2);
    assert.ok(store.appends >= 1 + 5, `1000 partition records in 8 KiB batches need several batches (${store.appends} appends)`);
    // On disk: Begin first in the first batch of the change, End last in its last batch.
    const types = [...readWholeLog(plog, 1 << 20)].flatMap((chunk) => decodeRecordBatches(chunk)).map((b) => b.records.map((r) => r.value!.readUInt8(1)));
    assert.equal(types[1]![0], TransactionRecordType.Begin);
    assert.equal(types.at(-1)!.at(-1), TransactionRecordType.End);
    const replayed = replayAll(new MetadataLog(store));
    assert.equal(replayed.unfinishedTransaction, false);
    assert.equal(replayed.records.length, 2 + 1001);
    assert.deepEqual(replayed.records.filter((r) => r.type === MetadataRecordType.TopicRecord).map((r) => (r.data as { name: string }).name), ['small', 'big']);
    plog.close();
  } finally {
    cleanup(dir);
  }
});

test('a transaction torn by a crash is not replayed, and the next change aborts it first', () => {
  const dir = tmpLogDir();
  try {
    let plog = open(dir);
    // The crash comes after the first two batches of the big change reached the disk.
    const crashing = diskStore(plog, 8 * 1024, 3);
    const log = new MetadataLog(crashing);
    log.append(topicRecords('before', ID, 2), 1);
    assert.throws(() => log.append(topicRecords('torn', 'AAAAAAAAAAAAAAAAAAAAAg', 1000), 2), /simulated crash/);
    // And the last batch that reached the disk is itself torn: its last 10 bytes never made it.
    const segment = path.join(plog.dir, '00000000000000000000.log');
    plog.close();
    fs.truncateSync(segment, fs.statSync(segment).size - 10);

    plog = open(dir); // recovery cuts the torn batch
    const store = diskStore(plog, 8 * 1024);
    const reopened = new MetadataLog(store);
    const first = replayAll(reopened);
    assert.equal(first.unfinishedTransaction, true);
    assert.deepEqual(first.records.map((r) => r.type), [MetadataRecordType.TopicRecord, MetadataRecordType.PartitionRecord, MetadataRecordType.PartitionRecord]);

    reopened.append(topicRecords('after', 'AAAAAAAAAAAAAAAAAAAAAw', 1), 3);
    const second = replayAll(new MetadataLog(store));
    assert.equal(second.unfinishedTransaction, false, 'the AbortTransactionRecord closed the torn transaction');
    assert.deepEqual(second.records.filter((r) => r.type === MetadataRecordType.TopicRecord).map((r) => (r.data as { name: string }).name), ['before', 'after']);
    assert.equal(second.records.length, 3 + 2);
    plog.close();
  } finally {
    cleanup(dir);
  }
});

test('a record too large for any batch is refused before anything is written', () => {
  const dir = tmpLogDir();
  try {
    const plog = open(dir);
    const store = diskStore(plog, 4096);
    const log = new MetadataLog(store);
    const huge: MetadataRecord = {
      type: MetadataRecordType.ConfigRecord,
      version: 0,
      data: { resourceType: 2, resourceName: 't', name: 'retention.ms', value: 'x'.repeat(5000) },
    };
    assert.throws(
      () => log.append([...topicRecords('t', ID, 1), huge], 1),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.POLICY_VIOLATION,
    );
    assert.equal(store.appends, 0);
    plog.close();
  } finally {
    cleanup(dir);
  }
});

test('an append that fails in the store leaves a log that replays, whatever the store had written', () => {
  const dir = tmpLogDir();
  try {
    const plog = open(dir);
    for (const failAfter of [0, 1]) {
      // The store fails before the change's first batch (0) or after it (1).
      const failing = diskStore(plog, 8 * 1024, failAfter);
      const log = new MetadataLog(failing);
      assert.throws(() => log.append(topicRecords(`failed-${failAfter}`, 'AAAAAAAAAAAAAAAAAAAAAg', 1000), 1), /simulated crash/);
      (failing as { appends: number }).appends = Number.NEGATIVE_INFINITY; // the store works again
      log.append(topicRecords(`next-${failAfter}`, 'AAAAAAAAAAAAAAAAAAAAAw', 1), 2);
    }
    const replayed = replayAll(new MetadataLog(diskStore(plog, 8 * 1024)));
    assert.equal(replayed.unfinishedTransaction, false);
    assert.deepEqual(replayed.records.filter((r) => r.type === MetadataRecordType.TopicRecord).map((r) => (r.data as { name: string }).name), ['next-0', 'next-1']);
    plog.close();
  } finally {
    cleanup(dir);
  }
});

test('a change encoded in slices (prepare) is the same change once appended', async () => {
  const dir = tmpLogDir();
  try {
    const plog = open(dir);
    const store = diskStore(plog, 64 * 1024);
    const log = new MetadataLog(store);
    let pauses = 0;
    const records = topicRecords('sliced', ID, 5000);
    const prepared = await log.prepare(records, 1, async () => void pauses++);
    assert.ok(pauses >= 5, `encoded in several slices (${pauses})`);
    assert.equal(store.appends, 0, 'prepare writes nothing');
    log.appendPrepared(prepared);
    const replayed = replayAll(new MetadataLog(store));
    assert.deepEqual(replayed.records, records);
    plog.close();
  } finally {
    cleanup(dir);
  }
});
