import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError, errorName, isRetriable, isKnownErrorCode } from './errors.js';

test('error codes cover -1..128 without gaps, as in Kafka 3.9', () => {
  const codes = Object.values(ErrorCode).sort((a, b) => a - b);
  assert.equal(codes.length, 130);
  codes.forEach((c, i) => assert.equal(c, i - 1));
  assert.equal(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 3);
  assert.equal(ErrorCode.NOT_LEADER_OR_FOLLOWER, 6);
  assert.equal(ErrorCode.UNSUPPORTED_VERSION, 35);
  assert.equal(ErrorCode.INVALID_REGULAR_EXPRESSION, 128);
});

test('names and retriable flags follow Kafka', () => {
  assert.equal(errorName(3), 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.equal(errorName(-1), 'UNKNOWN_SERVER_ERROR');
  assert.equal(errorName(4242), 'UNKNOWN_ERROR_CODE(4242)');
  assert.equal(isKnownErrorCode(4242), false);
  for (const retriable of ['CORRUPT_MESSAGE', 'UNKNOWN_TOPIC_OR_PARTITION', 'NOT_LEADER_OR_FOLLOWER', 'REQUEST_TIMED_OUT', 'COORDINATOR_LOAD_IN_PROGRESS', 'NOT_ENOUGH_REPLICAS', 'CONCURRENT_TRANSACTIONS', 'UNKNOWN_TOPIC_ID'] as const) {
    assert.equal(isRetriable(ErrorCode[retriable]), true, retriable);
  }
  for (const fatal of ['NONE', 'UNKNOWN_SERVER_ERROR', 'OFFSET_OUT_OF_RANGE', 'BROKER_NOT_AVAILABLE', 'TOPIC_ALREADY_EXISTS', 'PRODUCER_FENCED', 'TRANSACTION_ABORTABLE'] as const) {
    assert.equal(isRetriable(ErrorCode[fatal]), false, fatal);
  }
});

test('KafkaError carries the code and its retriable flag', () => {
  const e = new KafkaError(ErrorCode.NOT_COORDINATOR, 'group g moved');
  assert.ok(e instanceof Error);
  assert.equal(e.code, 16);
  assert.equal(e.retriable, true);
  assert.equal(e.errorName, 'NOT_COORDINATOR');
  assert.equal(e.message, 'NOT_COORDINATOR: group g moved');
  assert.equal(new KafkaError(ErrorCode.INVALID_REQUEST).retriable, false);
});
