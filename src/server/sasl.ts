// SASL on a connection of a SASL_PLAINTEXT or SASL_SSL listener (KIP-43 with KIP-152 framing):
// SaslHandshake (v1) picks the mechanism, SaslAuthenticate carries its tokens. Until the exchange
// has succeeded, the router serves nothing but ApiVersions, SaslHandshake and SaslAuthenticate,
// and the connection reads no frame above sasl.server.max.receive.size, so an unauthenticated
// peer cannot make the broker allocate or work. Mechanisms: PLAIN (RFC 4616) against the users
// of the listener's JAAS configuration; SCRAM-SHA-256 and SCRAM-SHA-512 (two round trips) against
// the credentials of the cluster metadata (AlterUserScramCredentials).
import { createHash, timingSafeEqual } from 'node:crypto';
import { PLAIN_LOGIN_MODULE, parseJaasConfigOf } from '../protocol/jaas-config.js';
import { ScramError, ScramServerExchange, scramMechanismByName, type ScramCredential } from '../protocol/scram.js';

/** The SCRAM credential of a user for a mechanism (Kafka's type byte), as the metadata has it now. */
export type ScramCredentialLookup = (user: string, mechanism: number) => ScramCredential | undefined;

export const NO_SCRAM_CREDENTIALS: ScramCredentialLookup = () => undefined;

export interface SaslListenerSettings {
  /** sasl.enabled.mechanisms of the listener, upper case. */
  readonly mechanisms: readonly string[];
  /** PLAIN: user name -> password (the user_<name>="<password>" entries of the JAAS config). */
  readonly plainUsers: ReadonlyMap<string, string>;
  /** sasl.server.max.receive.size: the largest frame read before authentication (and during
   * re-authentication). */
  readonly maxReceiveBytes: number;
  /** connections.max.reauth.ms by mechanism (upper case): a session's lifetime (KIP-368);
   * absent or <= 0: sessions never expire and re-authentication is refused. */
  readonly maxReauthMsByMechanism?: ReadonlyMap<string, number>;
}

/** Kafka lets a connection begin re-authentication at most once a second. */
const MIN_REAUTH_INTERVAL_MS = 1000;

/** Api keys served before authentication: ApiVersions, SaslHandshake, SaslAuthenticate. */
export const PRE_AUTHENTICATION_APIS: ReadonlySet<number> = new Set([18, 17, 36]);

export type SaslStep =
  /** `sessionLifetimeMs`: once the exchange completes, how long the session lasts (0: no limit,
   * or the exchange goes on). */
  | { readonly ok: true; readonly response: Buffer; readonly sessionLifetimeMs: number }
  | { readonly ok: false; readonly errorCode: number; readonly message: string };

const ILLEGAL_SASL_STATE = 34;
const SASL_AUTHENTICATION_FAILED = 58;
const UNSUPPORTED_SASL_MECHANISM = 33;

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * The SASL state of one connection. Time comes from the injected monotonic clock (ms).
 * KIP-368: with connections.max.reauth.ms set for its mechanism, an authentication gives the
 * session an expiry; the connection must re-authenticate (SaslHandshake + SaslAuthenticate again,
 * same mechanism, same principal) before it, or its first request after it closes the connection.
 */
export class SaslSession {
  /** The mechanism of the exchange under way or last completed. */
  private mechanism: string | null = null;
  /** `User:<name>` once authenticated; during re-authentication still the previous one, which the
   * requests answered meanwhile are authorized as. */
  principal: string | null = null;
  /** Set by a failed authentication: the connection is closed at its next request, as Kafka closes it after answering. */
  failed = false;
  /** Why the last authentication failed, when the client was told less (for the broker's log). */
  failureDetail: string | null = null;
  /** The SCRAM exchange under way, after its first message. */
  private scram: ScramServerExchange | null = null;
  /** Clock reading after which the session has expired; null: it never does. */
  expiresAtMs: number | null = null;
  /** A re-authentication began (SaslHandshake on an authenticated connection) and has not ended. */
  reauthenticating = false;
  /** Completed re-authentications, for the broker's log. */
  reauthentications = 0;
  /** Some SaslAuthenticate came as v1+, which carries sessionLifetimeMs (Kafka's test of KIP-368 support). */
  clientSupportsReauthentication = false;
  private lastReauthStartMs: number | null = null;
  /** Set when a re-authentication asked for another mechanism: its token is refused with this. */
  private badReauthMechanism: string | null = null;

  constructor(
    readonly settings: SaslListenerSettings,
    private readonly scramCredentials: ScramCredentialLookup = NO_SCRAM_CREDENTIALS,
    private readonly nowMs: () => number = () => 0,
  ) {}

  /** Authenticated and not re-authenticating: requests other than SASL's are served. */
  get authenticated(): boolean {
    return this.principal !== null && !this.reauthenticating;
  }

  /** After a SaslHandshake v0: the next frame is a bare SASL token, not a Kafka request. */
  rawTokenExpected = false;

  /** The session has expired (a re-authentication under way has not, as in Kafka). */
  expired(nowMs?: number): boolean {
    // Checked on every request: no clock read for sessions that never expire.
    if (this.reauthenticating || this.expiresAtMs === null) return false;
    return (nowMs ?? this.nowMs()) > this.expiresAtMs;
  }

  /** A SaslHandshake now would begin a re-authentication: the session has an expiry, and the last
   * re-authentication began at least a second ago. */
  mayBeginReauthentication(nowMs = this.nowMs()): boolean {
    return this.authenticated && this.expiresAtMs !== null
      && (this.lastReauthStartMs === null || nowMs - this.lastReauthStartMs >= MIN_REAUTH_INTERVAL_MS);
  }

  /** SaslHandshake: error code 0 when `mechanism` is enabled here (UNSUPPORTED_SASL_MECHANISM
   * else). Version 0 means the tokens follow as bare frames (Kafka before KIP-152). On an
   * authenticated connection it begins a re-authentication when that is allowed. */
  handshake(mechanism: string, version: number): number {
    const m = mechanism.toUpperCase();
    if (this.authenticated) {
      const now = this.nowMs();
      if (!this.mayBeginReauthentication(now)) return ILLEGAL_SASL_STATE;
      this.lastReauthStartMs = now;
      this.reauthenticating = true;
      this.scram = null;
      if (!this.settings.mechanisms.includes(m)) {
        this.failed = true; // as Kafka, a refused re-authentication ends the connection
        return UNSUPPORTED_SASL_MECHANISM;
      }
      if (m !== this.mechanism) {
        this.badReauthMechanism = `SASL mechanism '${m}' requested by client is not supported for re-authentication of mechanism '${this.mechanism}'`;
      }
      this.rawTokenExpected = version === 0;
      return 0;
    }
    if (this.reauthenticating || this.mechanism !== null) return ILLEGAL_SASL_STATE;
    if (!this.settings.mechanisms.includes(m)) return UNSUPPORTED_SASL_MECHANISM;
    this.mechanism = m;
    this.rawTokenExpected = version === 0;
    return 0;
  }

  /** SaslAuthenticate (`version` -1: a bare token after SaslHandshake v0): one token of the chosen mechanism. */
  authenticate(token: Buffer, version = -1): SaslStep {
    if (this.mechanism === null || this.authenticated) {
      this.rawTokenExpected = false;
      return { ok: false, errorCode: ILLEGAL_SASL_STATE, message: 'Unexpected SaslAuthenticate request: no SaslHandshake before it, or already authenticated' };
    }
    if (version > 0) this.clientSupportsReauthentication = true;
    if (this.badReauthMechanism !== null) {
      this.rawTokenExpected = false;
      return this.fail(this.badReauthMechanism);
    }
    if (this.mechanism === 'PLAIN') {
      this.rawTokenExpected = false;
      return this.plain(token);
    }
    return this.scramStep(this.mechanism, token);
  }

  /** One SCRAM message; after SaslHandshake v0 the next one comes bare too, until the exchange ends. */
  private scramStep(mechanism: string, token: Buffer): SaslStep {
    const m = scramMechanismByName(mechanism)!;
    this.scram ??= new ScramServerExchange(m, (user) => this.scramCredentials(user, m.type));
    try {
      const response = this.scram.respond(token);
      if (!this.scram.done) return { ok: true, response, sessionLifetimeMs: 0 };
      this.rawTokenExpected = false;
      return this.complete(`User:${this.scram.user}`, response);
    } catch (err) {
      this.rawTokenExpected = false;
      if (!(err instanceof ScramError)) throw err;
      // As Kafka: one wording whatever went wrong (no oracle for user names), but for the few
      // failures it reports as they are; the detail goes to the broker's log.
      this.failureDetail = err.message;
      return this.fail(err.clientVisible ? err.message : `Authentication failed during ${this.reauthenticating ? 're-authentication' : 'authentication'} due to invalid credentials with SASL mechanism ${m.name}`);
    }
  }

  /** The exchange succeeded for `principal`: a re-authentication must keep the principal; the
   * session's expiry is set from connections.max.reauth.ms (PLAIN and SCRAM credentials have no
   * lifetime of their own, which would otherwise cap it). */
  private complete(principal: string, response: Buffer): SaslStep {
    if (this.reauthenticating && principal !== this.principal) {
      // Kafka's wording, with its principal as <type>.<name>.
      return this.fail(`Cannot change principals during re-authentication from ${this.principal!.replace(':', '.')}: ${principal.replace(':', '.')}`);
    }
    if (this.reauthenticating) this.reauthentications++;
    this.principal = principal;
    this.reauthenticating = false;
    const maxReauthMs = this.settings.maxReauthMsByMechanism?.get(this.mechanism!) ?? 0;
    // Long.MAX_VALUE (read as Infinity) stays a finite number for the int64 field.
    const sessionLifetimeMs = maxReauthMs > 0 ? Math.min(maxReauthMs, Number.MAX_SAFE_INTEGER) : 0;
    this.expiresAtMs = sessionLifetimeMs > 0 ? this.nowMs() + sessionLifetimeMs : null;
    return { ok: true, response, sessionLifetimeMs };
  }

  /** PLAIN: [authzid] NUL authcid NUL passwd. */
  private plain(token: Buffer): SaslStep {
    const parts = token.toString('utf8').split('\u0000');
    if (parts.length !== 3) return this.fail('Authentication failed: Invalid SASL/PLAIN response: expected 3 tokens');
    const [authzid, user, password] = parts as [string, string, string];
    if (user === '' || password === '') return this.fail('Authentication failed: Invalid SASL/PLAIN response: username and password must not be empty');
    const expected = this.settings.plainUsers.get(user);
    // Compared as digests in constant time, also for unknown users, so timing says nothing.
    const match = timingSafeEqual(digest(password), digest(expected ?? `\u0000${password}`)) && expected !== undefined;
    if (!match) return this.fail('Authentication failed: Invalid username or password');
    if (authzid !== '' && authzid !== user) return this.fail('Authentication failed: Client requested an authorization id that is different from username');
    return this.complete(`User:${user}`, Buffer.alloc(0));
  }

  private fail(message: string): SaslStep {
    this.failed = true;
    return { ok: false, errorCode: SASL_AUTHENTICATION_FAILED, message };
  }
}

/**
 * The users of a PlainLoginModule JAAS configuration, as Kafka's broker reads it:
 * `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin"
 * password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";`
 * Throws with the reason when it is not one.
 */
export function parsePlainJaasUsers(jaas: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const [key, value] of parseJaasConfigOf(jaas, PLAIN_LOGIN_MODULE)) {
    if (key.startsWith('user_')) users.set(key.slice('user_'.length), value);
  }
  if (users.size === 0) throw new Error('no users: add user_<name>="<password>" entries');
  return users;
}
