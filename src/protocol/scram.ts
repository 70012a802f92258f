// SCRAM (RFC 5802, with SHA-256 per RFC 7677 and SHA-512) as Kafka uses it for SASL/SCRAM-SHA-256
// and SCRAM-SHA-512 (KIP-84): the credential a server keeps (salt, StoredKey, ServerKey,
// iterations; never the password), and both sides of the exchange. No channel binding (Kafka's
// gs2 header is "n,," or "n,a=<authzid>,"). Extensions in the client's first message (Kafka's
// `tokenauth`) are read and ignored here. Nonces come from an injected source, so tests can replay
// the RFC's example exchange.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export interface ScramMechanism {
  /** SASL name, e.g. SCRAM-SHA-256. */
  readonly name: string;
  /** Kafka's ScramMechanism type byte (metadata records, AlterUserScramCredentials). */
  readonly type: number;
  readonly hash: 'sha256' | 'sha512';
  readonly keyBytes: number;
  readonly minIterations: number;
  readonly maxIterations: number;
}

export const SCRAM_MECHANISMS: readonly ScramMechanism[] = [
  { name: 'SCRAM-SHA-256', type: 1, hash: 'sha256', keyBytes: 32, minIterations: 4096, maxIterations: 16384 },
  { name: 'SCRAM-SHA-512', type: 2, hash: 'sha512', keyBytes: 64, minIterations: 4096, maxIterations: 16384 },
];

export function scramMechanismByName(name: string): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => m.name === name.toUpperCase());
}

export function scramMechanismByType(type: number): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => m.type === type);
}

/** What the server stores per user and mechanism. */
export interface ScramCredential {
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  readonly iterations: number;
}

export function saltedPassword(m: ScramMechanism, password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, m.keyBytes, m.hash);
}

function hmac(m: ScramMechanism, key: Buffer, text: string | Buffer): Buffer {
  return createHmac(m.hash, key).update(text).digest();
}

function h(m: ScramMechanism, data: Buffer): Buffer {
  return createHash(m.hash).update(data).digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** The stored credential of a salted password (what AlterUserScramCredentials sends). */
export function scramCredential(m: ScramMechanism, salted: Buffer, salt: Buffer, iterations: number): ScramCredential {
  return { salt, iterations, storedKey: h(m, hmac(m, salted, 'Client Key')), serverKey: hmac(m, salted, 'Server Key') };
}

/** A printable nonce: base64url of 24 random bytes (no ',' and no '='). */
export function randomNonce(): string {
  return randomBytes(24).toString('base64url');
}

/** RFC 5802 saslname: ',' and '=' escaped as =2C and =3D. */
function escapeName(s: string): string {
  return s.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function unescapeName(s: string): string | null {
  if (/=(?!2C|3D)/.test(s)) return null;
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/** `k=v` attributes of a SCRAM message, in order; null when malformed. RFC 5802's attributes are
 * one letter; Kafka's extensions (`tokenauth=true`) have longer names. */
function attributes(msg: string): Array<[string, string]> | null {
  const out: Array<[string, string]> = [];
  for (const part of msg.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 1) return null;
    out.push([part.slice(0, eq), part.slice(eq + 1)]);
  }
  return out;
}

export class ScramError extends Error {
  constructor(
    message: string,
    /** Shown to the client as it is (Kafka's SaslAuthenticationException); otherwise a server
     * answers with its generic "invalid credentials" wording and logs this message. */
    readonly clientVisible = false,
  ) {
    super(message);
    this.name = 'ScramError';
  }
}

type ServerState = 'first' | 'final' | 'done';

/** The server side of one exchange: two client messages in, two server messages out. */
export class ScramServerExchange {
  private state: ServerState = 'first';
  private authMessagePrefix = '';
  private nonce = '';
  private gs2Header = '';
  private credential: ScramCredential | null = null;
  /** The authenticated user, once done. */
  user: string | null = null;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: (user: string) => ScramCredential | undefined,
    private readonly newNonce: () => string = randomNonce,
  ) {}

  get done(): boolean {
    return this.state === 'done';
  }

  /** Answers the client's next message; throws ScramError when the exchange fails. */
  respond(message: Buffer): Buffer {
    const text = message.toString('utf8');
    if (this.state === 'first') return Buffer.from(this.first(text), 'utf8');
    if (this.state === 'final') return Buffer.from(this.final(text), 'utf8');
    throw new ScramError('Unexpected SCRAM message after the exchange completed');
  }

  private first(text: string): string {
    // gs2-header: "n," (no channel binding) then an optional "a=<authzid>", then ",".
    const m = /^([nyp])(?:=[^,]*)?,(a=[^,]*)?,(.*)$/s.exec(text);
    if (m === null) throw new ScramError('Authentication failed: Invalid client first message');
    if (m[1] !== 'n') throw new ScramError('Authentication failed: channel binding is not supported');
    const bare = m[3]!;
    const attrs = attributes(bare);
    if (attrs === null || attrs.length < 2 || attrs[0]![0] !== 'n' || attrs[1]![0] !== 'r' || attrs[1]![1] === '') {
      throw new ScramError('Authentication failed: Invalid client first message');
    }
    const user = unescapeName(attrs[0]![1]);
    if (user === null || user === '') throw new ScramError('Authentication failed: Invalid client first message');
    const authzid = m[2] === undefined ? '' : unescapeName(m[2].slice(2));
    const credential = this.lookup(user);
    if (credential === undefined) throw new ScramError('Authentication failed: Invalid user credentials');
    if (authzid !== '' && authzid !== user) throw new ScramError('Authentication failed: Client requested an authorization id that is different from username', true);
    if (credential.iterations < this.mechanism.minIterations) {
      throw new ScramError(`Iterations ${credential.iterations} is less than the minimum ${this.mechanism.minIterations} for ${this.mechanism.name}`);
    }
    this.credential = credential;
    this.user = user;
    this.gs2Header = text.slice(0, text.length - bare.length);
    this.nonce = attrs[1]![1] + this.newNonce();
    const serverFirst = `r=${this.nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
    this.authMessagePrefix = `${bare},${serverFirst}`;
    this.state = 'final';
    return serverFirst;
  }

  private final(text: string): string {
    const attrs = attributes(text);
    const c = attrs?.find(([k]) => k === 'c')?.[1];
    const r = attrs?.find(([k]) => k === 'r')?.[1];
    const p = attrs !== null && attrs.length > 0 && attrs[attrs.length - 1]![0] === 'p' ? attrs[attrs.length - 1]![1] : undefined;
    if (c === undefined || r === undefined || p === undefined) throw new ScramError('Authentication failed: Invalid client final message');
    // Kafka accepts a nonce that ends with its own (endsWith, since 3.8.1): librdkafka before
    // 2.6.1 puts its client nonce in front once more (librdkafka #4895).
    if (!r.endsWith(this.nonce)) throw new ScramError('Invalid client nonce in the final client message.');
    if (Buffer.from(c, 'base64').toString('utf8') !== this.gs2Header) throw new ScramError('Authentication failed: Invalid client final message');
    const withoutProof = text.slice(0, text.lastIndexOf(',p='));
    const authMessage = `${this.authMessagePrefix},${withoutProof}`;
    const cred = this.credential!;
    const proof = Buffer.from(p, 'base64');
    const signature = hmac(this.mechanism, cred.storedKey, authMessage);
    if (proof.length !== signature.length) throw new ScramError('Invalid client credentials');
    const clientKey = xor(proof, signature);
    if (!timingSafeEqual(h(this.mechanism, clientKey), cred.storedKey)) throw new ScramError('Invalid client credentials');
    this.state = 'done';
    return `v=${hmac(this.mechanism, cred.serverKey, authMessage).toString('base64')}`;
  }
}

/** The client side of one exchange. */
export class ScramClientExchange {
  private clientFirstBare = '';
  private expectedServerSignature: Buffer | null = null;
  private readonly clientNonce: string;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly user: string,
    private readonly password: string,
    newNonce: () => string = randomNonce,
  ) {
    this.clientNonce = newNonce();
  }

  firstMessage(): Buffer {
    this.clientFirstBare = `n=${escapeName(this.user)},r=${this.clientNonce}`;
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8');
  }

  /** The client's final message for the server's first one. */
  finalMessage(serverFirst: Buffer): Buffer {
    const text = serverFirst.toString('utf8');
    const attrs = attributes(text);
    const r = attrs?.find(([k]) => k === 'r')?.[1];
    const s = attrs?.find(([k]) => k === 's')?.[1];
    const i = Number(attrs?.find(([k]) => k === 'i')?.[1]);
    if (r === undefined || s === undefined || !Number.isInteger(i) || i <= 0) throw new ScramError(`Invalid SCRAM server first message: ${text}`);
    if (!r.startsWith(this.clientNonce) || r.length === this.clientNonce.length) throw new ScramError('Invalid SCRAM server nonce: it does not extend the client nonce');
    if (i < this.mechanism.minIterations) throw new ScramError(`Requested iterations ${i} is less than the minimum ${this.mechanism.minIterations} for ${this.mechanism.name}`);
    const salted = saltedPassword(this.mechanism, this.password, Buffer.from(s, 'base64'), i);
    const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${r}`;
    const authMessage = `${this.clientFirstBare},${text},${withoutProof}`;
    const clientKey = hmac(this.mechanism, salted, 'Client Key');
    const signature = hmac(this.mechanism, h(this.mechanism, clientKey), authMessage);
    this.expectedServerSignature = hmac(this.mechanism, hmac(this.mechanism, salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${xor(clientKey, signature).toString('base64')}`, 'utf8');
  }

  /** Checks the server's final message (its proof that it knows the credential). */
  verifyServerFinal(serverFinal: Buffer): void {
    const text = serverFinal.toString('utf8');
    const attrs = attributes(text);
    const e = attrs?.find(([k]) => k === 'e')?.[1];
    if (e !== undefined) throw new ScramError(`SCRAM authentication failed: ${e}`);
    const v = attrs?.find(([k]) => k === 'v')?.[1];
    const expected = this.expectedServerSignature;
    if (v === undefined || expected === null) throw new ScramError(`Invalid SCRAM server final message: ${text}`);
    const got = Buffer.from(v, 'base64');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) throw new ScramError('Invalid SCRAM server signature: the server does not know this credential');
  }
}
