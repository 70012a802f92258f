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

// KIP-368: the session clock, with time injected.
function reauthSession(maxReauthMs: number, clock: { now: number }): SaslSession {
  const users = new Map([['alice', 'alice-secret'], ['bob', 'bob-secret']]);
  return new SaslSession({ mechanisms: ['PLAIN', 'SCRAM-SHA-256'], plainUsers: users, maxReceiveBytes: 1024, maxReauthMsByMechanism: new Map([['PLAIN', maxReauthMs]]) }, undefined, () => clock.now);
}

/** A session authenticated as alice with SaslAuthenticate v2. */
function aliceSession(maxReauthMs: number, clock: { now: number }): SaslSession {
  const s = reauthSession(maxReauthMs, clock);
  assert.equal(s.handshake('PLAIN', 1), 0);
  assert.equal(s.authenticate(token('', 'alice', 'alice-secret'), 2).ok, true);
  return s;
}

test('reauth: the session lifetime is connections.max.reauth.ms and the session expires strictly after it', () => {
  const clock = { now: 10_000 };
  const s = reauthSession(2000, clock);
  s.handshake('PLAIN', 1);
  const step = s.authenticate(token('', 'alice', 'alice-secret'), 2);
  assert.deepEqual(step.ok && step.sessionLifetimeMs, 2000);
  assert.equal(s.expiresAtMs, 12_000);
  assert.equal(s.clientSupportsReauthentication, true);
  assert.equal(s.expired(12_000), false);
  assert.equal(s.expired(12_001), true);
});

test('reauth off (0): no lifetime, never expires, a second handshake is ILLEGAL_SASL_STATE', () => {
  const clock = { now: 0 };
  const s = aliceSession(0, clock);
  assert.equal(s.expiresAtMs, null);
  clock.now = 1e12;
  assert.equal(s.expired(), false);
  assert.equal(s.handshake('PLAIN', 1), 34);
});

test('reauth: a v0 SaslAuthenticate client still gets an expiry (it will be disconnected, not re-authenticated)', () => {
  const clock = { now: 0 };
  const s = reauthSession(1000, clock);
  s.handshake('PLAIN', 1);
  assert.equal(s.authenticate(token('', 'alice', 'alice-secret'), 0).ok, true);
  assert.equal(s.clientSupportsReauthentication, false);
  assert.equal(s.expired(1001), true);
});

test('reauth: handshake + authenticate again moves the expiry forward; at most one start a second', () => {
  const clock = { now: 0 };
  const s = aliceSession(2000, clock);
  clock.now = 1800;
  assert.equal(s.handshake('PLAIN', 1), 0);
  assert.equal(s.reauthenticating, true);
  assert.equal(s.authenticated, false); // only SASL requests (and the pre-auth size limit) meanwhile
  assert.equal(s.principal, 'User:alice'); // requests answered meanwhile keep their principal
  clock.now = 2500; // past the old expiry, but a re-authentication under way does not expire
  assert.equal(s.expired(), false);
  const step = s.authenticate(token('', 'alice', 'alice-secret'), 2);
  assert.equal(step.ok && step.sessionLifetimeMs, 2000);
  assert.equal(s.expiresAtMs, 4500);
  assert.equal(s.reauthentications, 1);
  assert.equal(s.authenticated, true);
  clock.now = 3000; // 1.2 s after the last start: allowed; 0.5 s after it would not be
  assert.equal(s.mayBeginReauthentication(2300), false);
  assert.equal(s.mayBeginReauthentication(), true);
});

test('reauth refusals: another principal (Kafka wording), another mechanism, a failure closes', () => {
  const clock = { now: 0 };
  const s = aliceSession(2000, clock);
  clock.now = 1500;
  assert.equal(s.handshake('PLAIN', 1), 0);
  const bob = s.authenticate(token('', 'bob', 'bob-secret'), 2);
  assert.deepEqual(bob, { ok: false, errorCode: 58, message: 'Cannot change principals during re-authentication from User.alice: User.bob' });
  assert.equal(s.failed, true);
  assert.equal(s.principal, 'User:alice');

  const t = aliceSession(2000, clock);
  clock.now = 3000;
  assert.equal(t.handshake('SCRAM-SHA-256', 1), 0);
  const other = t.authenticate(Buffer.from('n,,n=alice,r=abc'), 2);
  assert.equal(other.ok === false && other.message, "SASL mechanism 'SCRAM-SHA-256' requested by client is not supported for re-authentication of mechanism 'PLAIN'");
  assert.equal(t.failed, true);
});
