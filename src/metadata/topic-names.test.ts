import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collisionKey, topicNameProblem } from './topic-names.js';

test('legal topic names pass', () => {
  for (const n of ['a', 'orders.v1', 'my_topic-2', 'x'.repeat(249)]) assert.equal(topicNameProblem(n), null, n);
});

test('illegal topic names are refused with a reason', () => {
  for (const n of ['', '.', '..', 'x'.repeat(250), 'has space', 'slash/no', 'ünï']) {
    assert.match(topicNameProblem(n) ?? '', /illegal|cannot/, n);
  }
});

test('dot and underscore collide', () => {
  assert.equal(collisionKey('a.b_c'), collisionKey('a_b.c'));
  assert.notEqual(collisionKey('a.b'), collisionKey('a-b'));
});
