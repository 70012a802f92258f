import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePlainJaasUsers, SaslSession } from './sasl.js';

const settings = { mechanisms: ['PLAIN'], plainUsers: new Map([['alice', 'alice-secret']]), maxReceiveBytes: 1024 };
const token = (authzid: string, user: string, password: string) => Buffer.from(`${authzid}\u0000${user}\u0000${password}`);

test('PLAIN: handshake, then the right password authenticates as User:<name>', () => {
  const s = new SaslSession(settings);
  assert.equal(s.handshake('plain', 1), 0);
  assert.equal(s.rawTokenExpected, false);
  const step = s.authenticate(token('', 'alice', 'alice-secret'));
  assert.equal(step.ok, true);
  assert.equal(s.principal, 'User:alice');
  assert.equal(s.authenticated, true);
  // A second handshake on an authenticated connection is out of order.
  assert.equal(s.handshake('PLAIN', 1), 34);
});

test('PLAIN refusals: unknown mechanism, out-of-order token, wrong password, unknown user, bad token, other authzid', () => {
  assert.equal(new SaslSession(settings).handshake('SCRAM-SHA-256', 1), 33);
  const early = new SaslSession(settings).authenticate(token('', 'alice', 'alice-secret'));
  assert.equal(early.ok === false && early.errorCode, 34);
  for (const [t, message] of [
    [token('', 'alice', 'nope'), /Invalid username or password/],
    [token('', 'bob', 'alice-secret'), /Invalid username or password/],
    [Buffer.from('alice\u0000alice-secret'), /expected 3 tokens/],
    [token('', '', 'x'), /must not be empty/],
    [token('mallory', 'alice', 'alice-secret'), /authorization id that is different/],
  ] as const) {
    const s = new SaslSession(settings);
    s.handshake('PLAIN', 1);
    const step = s.authenticate(t);
    assert.equal(step.ok, false);
    if (!step.ok) {
      assert.equal(step.errorCode, 58);
      assert.match(step.message, message);
    }
    assert.equal(s.failed, true);
    assert.equal(s.authenticated, false);
  }
});

test('SaslHandshake v0 expects the token as a bare frame next', () => {
  const s = new SaslSession(settings);
  assert.equal(s.handshake('PLAIN', 0), 0);
  assert.equal(s.rawTokenExpected, true);
  assert.equal(s.authenticate(token('alice', 'alice', 'alice-secret')).ok, true);
  assert.equal(s.rawTokenExpected, false);
});

test('the PlainLoginModule JAAS config gives its users; others are refused with the reason', () => {
  const users = parsePlainJaasUsers('org.apache.kafka.common.security.plain.PlainLoginModule required\n  username="admin" password="a b" user_admin="a b" user_x=plain user_q="say \\"hi\\"";');
  assert.deepEqual([...users], [['admin', 'a b'], ['x', 'plain'], ['q', 'say "hi"']]);
  assert.throws(() => parsePlainJaasUsers('org.apache.kafka.common.security.scram.ScramLoginModule required;'), /is not org\.apache\.kafka\.common\.security\.plain\.PlainLoginModule/);
  assert.throws(() => parsePlainJaasUsers('org.apache.kafka.common.security.plain.PlainLoginModule required username="a";'), /no users/);
  assert.throws(() => parsePlainJaasUsers('nonsense'), /expected/);
});
