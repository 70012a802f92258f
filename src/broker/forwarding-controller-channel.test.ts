// The forwarding channel: the local controller while it is active; otherwise Kafka's request to
// the active controller, retried while no controller is known, on NOT_CONTROLLER and on a lost
// connection, until the timeout (then the last answer). Remote answers become the channel's
// results (a created topic's own configs only, items in request order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerChannel, NewTopic } from '../metadata/controller-channel.js';
import { ErrorCode } from '../protocol/errors.js';
import type { MessageCodec } from '../protocol/codec/message.js';
import { CreateTopicsResponse } from '../protocol/messages/CreateTopicsResponse.js';
import { DeleteTopicsResponse } from '../protocol/messages/DeleteTopicsResponse.js';
import { ControllerUnreachableError, type ControllerEndpoint } from './controller-connection.js';
import { ForwardingControllerChannel } from './forwarding-controller-channel.js';

const topic = (name: string): NewTopic => ({ name, numPartitions: 2, replicationFactor: -1, assignments: [], configs: [{ name: 'retention.ms', value: '1000' }] });

interface Sent {
  endpoint: ControllerEndpoint;
  apiKey: number;
  version: number;
  data: unknown;
}

/** A channel with a fake clock and a scripted remote: each send takes the next answer. */
function harness(opts: { active: boolean; leader: () => ControllerEndpoint | null; answers: Array<object | Error> }) {
  let now = 0;
  const sent: Sent[] = [];
  const localCalls: string[] = [];
  const local = {
    active: opts.active,
    createTopics: async (topics: readonly NewTopic[]) => {
      localCalls.push('createTopics');
      return topics.map((t) => ({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null, value: { topicId: 'local', partitions: 1, replicationFactor: 1, configs: new Map<string, string>() } }));
    },
  } as unknown as ControllerChannel & { active: boolean };
  const channel = new ForwardingControllerChannel({
    local,
    activeController: opts.leader,
    connections: {
      send: <Req extends object, Res extends object>(endpoint: ControllerEndpoint, apiKey: number, version: number, _req: MessageCodec<Req>, _res: MessageCodec<Res>, data: Req): Promise<Res> => {
        sent.push({ endpoint, apiKey, version, data });
        const next = opts.answers.shift();
        if (next === undefined) return Promise.reject(new Error('no scripted answer left'));
        return next instanceof Error ? Promise.reject(next) : Promise.resolve(next as Res);
      },
    },
    clusterId: 'cluster',
    brokerId: 2,
    timeoutMs: 1000,
    retryBackoffMs: 100,
    nowMs: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  });
  return { channel, sent, localCalls, now: () => now };
}

function createdAnswer(errorCode: number) {
  const res = CreateTopicsResponse.defaults();
  res.topics = [
    {
      ...CreateTopicsResponse.newStruct('CreatableTopicResult'),
      name: 'orders',
      topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
      errorCode,
      errorMessage: errorCode === ErrorCode.NONE ? null : 'not the controller',
      numPartitions: 2,
      replicationFactor: 1,
      configs: [
        { name: 'retention.ms', value: '1000', readOnly: false, configSource: 1, isSensitive: false },
        { name: 'segment.bytes', value: '1073741824', readOnly: false, configSource: 5, isSensitive: false },
      ],
    },
  ];
  return res;
}

test('an active local controller answers itself; nothing goes on the wire', async () => {
  const h = harness({ active: true, leader: () => ({ host: 'h', port: 1 }), answers: [] });
  const [r] = await h.channel.createTopics([topic('orders')], false);
  assert.equal(r!.value!.topicId, 'local');
  assert.deepEqual(h.localCalls, ['createTopics']);
  assert.equal(h.sent.length, 0);
});

test('a standby forwards CreateTopics v7 to the leader once one is known, retrying NOT_CONTROLLER and a lost connection', async () => {
  let calls = 0;
  const leader = { host: '127.0.0.1', port: 9093 };
  const h = harness({
    active: false,
    leader: () => (++calls <= 2 ? null : leader),
    answers: [new ControllerUnreachableError(leader, 'connection closed'), createdAnswer(ErrorCode.NOT_CONTROLLER), createdAnswer(ErrorCode.NONE)],
  });
  const [r] = await h.channel.createTopics([topic('orders')], false);
  assert.equal(r!.errorCode, ErrorCode.NONE);
  assert.deepEqual(r!.value, { topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: 2, replicationFactor: 1, configs: new Map([['retention.ms', '1000']]) });
  assert.deepEqual(h.sent.map((s) => [s.apiKey, s.version, s.endpoint.port]), [[19, 7, 9093], [19, 7, 9093], [19, 7, 9093]]);
  assert.equal((h.sent[0]!.data as { topics: { name: string; configs: unknown[] }[] }).topics[0]!.name, 'orders');
  assert.equal(h.localCalls.length, 0);
  assert.equal(h.now(), 400, 'two waits for a leader and two retries, 100 ms each');
});

test('past the timeout the last answer is returned; without any answer, REQUEST_TIMED_OUT', async () => {
  const leader = { host: 'h', port: 1 };
  const answers = Array.from({ length: 20 }, () => createdAnswer(ErrorCode.NOT_CONTROLLER));
  const h = harness({ active: false, leader: () => leader, answers });
  const [r] = await h.channel.createTopics([topic('orders')], false);
  assert.equal(r!.errorCode, ErrorCode.NOT_CONTROLLER);
  assert.ok(h.now() < 1000 && h.sent.length === 10, `${h.sent.length} attempts by ${h.now()} ms`);
  const none = harness({ active: false, leader: () => null, answers: [] });
  const [t] = await none.channel.createTopics([topic('orders')], false);
  assert.equal(t!.errorCode, ErrorCode.REQUEST_TIMED_OUT);
});

test('DeleteTopics answers come back in request order, matched by topic id', async () => {
  const res = DeleteTopicsResponse.defaults();
  res.responses = [
    { name: 'b', topicId: 'BBBBBBBBBBBBBBBBBBBBBA', errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: 'gone' },
    { name: 'a', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', errorCode: ErrorCode.NONE, errorMessage: null },
  ];
  const h = harness({ active: false, leader: () => ({ host: 'h', port: 1 }), answers: [res] });
  const results = await h.channel.deleteTopics([
    { name: 'a', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' },
    { name: 'b', topicId: 'BBBBBBBBBBBBBBBBBBBBBA' },
  ]);
  assert.deepEqual(results, [
    { name: 'a', errorCode: ErrorCode.NONE, errorMessage: null, value: null },
    { name: 'b', errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: 'gone', value: null },
  ]);
  assert.equal(h.sent[0]!.apiKey, 20);
});
