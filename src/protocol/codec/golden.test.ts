// Known bytes, not produced by our own encoder: a frame captured from librdkafka (kcat) and
// messages assembled by hand from the spec, plus cross-checks against kafkajs's encoders and
// decoders. These catch mistakes a round trip through our own encoder and decoder would hide.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Reader, ZERO_UUID } from './reader.js';
import { Writer } from './writer.js';
import { decodeRequestHeader, encodeRequestHeader, encodeResponseHeader, requestHeaderVersion } from './headers.js';
import { ApiVersionsRequest } from '../messages/ApiVersionsRequest.js';
import { ApiVersionsResponse } from '../messages/ApiVersionsResponse.js';
import { MetadataRequest } from '../messages/MetadataRequest.js';
import { MetadataResponse, type MetadataResponseData } from '../messages/MetadataResponse.js';
import { JoinGroupRequest } from '../messages/JoinGroupRequest.js';
import { ProduceRequest } from '../messages/ProduceRequest.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

/** Header followed by body, as the bytes after a frame's size prefix. */
function frame(headerVersion: number, apiKey: number, apiVersion: number, correlationId: number, clientId: string | null, body: Buffer): Buffer {
  const w = new Writer();
  encodeRequestHeader(w, headerVersion, { apiKey, apiVersion, correlationId, clientId });
  w.bytes(body);
  return w.toBuffer();
}

test('ApiVersionsRequest v3 as librdkafka 2.0.2 (kcat) sends it decodes and re-encodes byte for byte', () => {
  // Captured from `kcat -L` against a listening socket: size prefix, then header v2 and body.
  const captured = hex('00000024 0012 0003 00000001 0007' + ascii('rdkafka') + '00' + '0b' + ascii('librdkafka') + '06' + ascii('2.0.2') + '00');
  assert.equal(captured.readInt32BE(0), captured.length - 4);
  const payload = captured.subarray(4);
  const h = decodeRequestHeader(payload);
  assert.deepEqual(h, { apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'rdkafka', headerVersion: 2, headerBytes: 18 });
  const body = ApiVersionsRequest.fromBuffer(payload.subarray(h.headerBytes), 3);
  assert.deepEqual(body, { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' });
  assert.deepEqual(frame(2, 18, 3, 1, 'rdkafka', ApiVersionsRequest.toBuffer(3, body)), payload);
});

test('MetadataRequest v0 matches bytes assembled from the spec', () => {
  // topics: int32 count, then int16-length strings; no other fields in v0.
  const body = hex('00000002 0003' + ascii('foo') + '0003' + ascii('bar'));
  const v = MetadataRequest.fromBuffer(body, 0);
  assert.deepEqual(v.topics!.map((t) => t.name), ['foo', 'bar']);
  assert.equal(v.allowAutoTopicCreation, true); // absent in v0: the spec default
  assert.deepEqual(MetadataRequest.toBuffer(0, v), body);
  assert.equal(requestHeaderVersion(3, 0), 1);
});

test('MetadataRequest v12 matches bytes assembled from the spec', () => {
  // Flexible: compact array (count + 1) of {topicId uuid, name compact nullable string, tags},
  // allowAutoTopicCreation, includeTopicAuthorizedOperations, tags.
  const topicId = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  const body = hex('02' + topicId.toString('hex') + '04' + ascii('foo') + '00' + '01' + '00' + '00');
  const v = MetadataRequest.fromBuffer(body, 12);
  assert.deepEqual(v, {
    topics: [{ topicId: topicId.toString('base64url'), name: 'foo' }],
    allowAutoTopicCreation: true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  assert.equal(v.topics![0]!.topicId, 'AAECAwQFBgcICQoLDA0ODw');
  assert.deepEqual(MetadataRequest.toBuffer(12, v), body);
  // All topics: a null array is a compact length of 0.
  const all = hex('00 00 01 00');
  assert.deepEqual(MetadataRequest.fromBuffer(all, 12), { ...MetadataRequest.defaults(), topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: true });
  assert.equal(requestHeaderVersion(3, 12), 2);
  // Header v2 with a null client id.
  const framed = frame(2, 3, 12, 7, null, body);
  assert.deepEqual(framed.subarray(0, 11), hex('0003 000c 00000007 ffff 00'));
});

test('ApiVersionsResponse v3 writes tagged fields after the regular ones, in tag order', () => {
  const v = ApiVersionsResponse.defaults();
  v.apiKeys = [{ apiKey: 18, minVersion: 0, maxVersion: 3 }];
  v.finalizedFeaturesEpoch = 5n; // tag 1, default -1
  v.zkMigrationReady = true; // tag 3, default false
  const expected = hex(
    '0000' + // errorCode
      '02 0012 0000 0003 00' + // apiKeys: one entry with its empty tag section
      '00000000' + // throttleTimeMs
      '02' + // two tagged fields
      '01 08 0000000000000005' + // tag 1, 8 bytes
      '03 01 01', // tag 3, 1 byte
  );
  assert.deepEqual(ApiVersionsResponse.toBuffer(3, v), expected);
  assert.deepEqual(ApiVersionsResponse.fromBuffer(expected, 3), v);
  // Response header v0 for ApiVersions: just the correlation id.
  const w = new Writer();
  encodeResponseHeader(w, 0, 99);
  assert.deepEqual(w.toBuffer(), hex('00000063'));
});

test('unknown tagged fields are skipped', () => {
  // ApiVersionsRequest v3 body with an extra tag 9 of 3 bytes in the root tag section.
  const body = hex('02' + ascii('a') + '02' + ascii('b') + '01 09 03 aabbcc');
  assert.deepEqual(ApiVersionsRequest.fromBuffer(body, 3), { clientSoftwareName: 'a', clientSoftwareVersion: 'b' });
});

// kafkajs is a dev dependency; its protocol modules are CommonJS.
const require = createRequire(import.meta.url);
interface KafkajsRequest {
  encode(): Promise<{ buffer: Buffer }>;
}
type KafkajsRequestFactory = (args: Record<string, unknown>) => KafkajsRequest;
const kafkajsRequest = (path: string): KafkajsRequestFactory => require(`kafkajs/src/protocol/requests/${path}/request.js`) as KafkajsRequestFactory;

test('MetadataRequest v0-v6 encodes as kafkajs does', async () => {
  for (let version = 0; version <= 6; version++) {
    const theirs = await kafkajsRequest(`metadata/v${version}`)({ topics: ['a', 'topic-b'], allowAutoTopicCreation: false }).encode();
    const ours = MetadataRequest.toBuffer(version, {
      ...MetadataRequest.defaults(),
      topics: [
        { topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'a' },
        { topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'topic-b' },
      ],
      // Absent before v4, where it must hold its default to be dropped.
      allowAutoTopicCreation: version >= 4 ? false : true,
    });
    assert.deepEqual(ours, theirs.buffer, `v${version}`);
  }
});

test('JoinGroupRequest v5 encodes as kafkajs does', async () => {
  const metadata = Buffer.from('0001000000010003666f6f00000000', 'hex');
  const theirs = await kafkajsRequest('joinGroup/v5')({
    groupId: 'g',
    sessionTimeout: 30000,
    rebalanceTimeout: 60000,
    memberId: '',
    groupInstanceId: 'inst-1',
    protocolType: 'consumer',
    groupProtocols: [{ name: 'range', metadata }],
  }).encode();
  const ours = JoinGroupRequest.toBuffer(5, {
    ...JoinGroupRequest.defaults(),
    groupId: 'g',
    sessionTimeoutMs: 30000,
    rebalanceTimeoutMs: 60000,
    memberId: '',
    groupInstanceId: 'inst-1',
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata }],
  });
  assert.deepEqual(ours, theirs.buffer);
});

test('MetadataResponse v5 as we encode it is what kafkajs decodes', async () => {
  const decode = (require('kafkajs/src/protocol/requests/metadata/v5/response.js') as { decode(b: Buffer): Promise<unknown> }).decode;
  const v: MetadataResponseData = MetadataResponse.defaults();
  v.throttleTimeMs = 10;
  v.brokers = [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }];
  v.clusterId = 'cluster-x';
  v.controllerId = 1;
  const partition = MetadataResponse.newStruct('MetadataResponsePartition');
  partition.partitionIndex = 0;
  partition.leaderId = 1;
  partition.replicaNodes = [1];
  partition.isrNodes = [1];
  partition.offlineReplicas = [];
  const topic = MetadataResponse.newStruct('MetadataResponseTopic');
  topic.name = 'events';
  topic.partitions = [partition];
  v.topics = [topic];
  const theirs = await decode(MetadataResponse.toBuffer(5, v));
  assert.deepEqual(theirs, {
    throttleTime: 10,
    brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
    clusterId: 'cluster-x',
    controllerId: 1,
    topicMetadata: [
      {
        topicErrorCode: 0,
        topic: 'events',
        isInternal: false,
        partitionMetadata: [{ partitionErrorCode: 0, partitionId: 0, leader: 1, replicas: [1], isr: [1], offlineReplicas: [] }],
      },
    ],
  });
});

test('records stay raw bytes: decode returns a view of the input and encode does not copy large batches', () => {
  const batch = Buffer.alloc(10_000, 7);
  const value = { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: 't', topicId: ZERO_UUID, partitionData: [{ index: 0, records: batch }] }] };
  const w = new Writer();
  ProduceRequest.encode(w, 9, value);
  assert.ok(w.chunks().includes(batch), 'the batch is its own chunk');
  assert.equal(w.chunks().reduce((n, c) => n + c.length, 0), w.length);
  const bytes = w.toBuffer();
  const decoded = ProduceRequest.decode(new Reader(bytes), 9);
  const records = decoded.topicData[0]!.partitionData[0]!.records!;
  assert.equal(records.buffer, bytes.buffer, 'same memory as the input');
  assert.deepEqual(records, batch);
});
