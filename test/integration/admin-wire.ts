// A minimal one-request-at-a-time Kafka client over a plain socket, built on the generated
// codecs, for the admin APIs no installed third-party client sends (IncrementalAlterConfigs and
// OffsetForLeaderEpoch with librdkafka 2.0.2 and kafkajs 2.2.4).
import { connect, type Socket } from 'node:net';
import { Reader, Writer, decodeResponseHeader, encodeRequestHeader, requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/codec/index.js';
import type { MessageCodec } from '../../src/protocol/codec/message.js';
import { SaslAuthenticateRequest } from '../../src/protocol/messages/SaslAuthenticateRequest.js';
import { SaslAuthenticateResponse } from '../../src/protocol/messages/SaslAuthenticateResponse.js';
import { SaslHandshakeRequest } from '../../src/protocol/messages/SaslHandshakeRequest.js';
import { SaslHandshakeResponse } from '../../src/protocol/messages/SaslHandshakeResponse.js';

export class WireClient {
  private buffered = Buffer.alloc(0);
  private waiting: ((frame: Buffer) => void) | null = null;
  private failWaiting: ((err: Error) => void) | null = null;
  private correlationId = 0;

  private constructor(private readonly socket: Socket) {
    // One listener for the socket's life (not one per request): fails the request in flight.
    socket.on('close', () => this.failWaiting?.(new Error('connection closed')));
    socket.on('error', () => {}); // 'close' follows and fails the request in flight
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      if (this.buffered.length >= 4) {
        const size = this.buffered.readInt32BE(0);
        if (this.buffered.length >= 4 + size && this.waiting !== null) {
          const frame = this.buffered.subarray(4, 4 + size);
          this.buffered = this.buffered.subarray(4 + size);
          const w = this.waiting;
          this.waiting = null;
          this.failWaiting = null;
          w(frame);
        }
      }
    });
  }

  static open(bootstrap: string): Promise<WireClient> {
    const [host, port] = bootstrap.split(':');
    return new Promise((resolve, reject) => {
      const socket = connect({ host: host!, port: Number(port) }, () => resolve(new WireClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Opens a connection authenticated with SASL/PLAIN (SaslHandshake v1, then SaslAuthenticate). */
  static async openPlain(bootstrap: string, username: string, password: string): Promise<WireClient> {
    const w = await WireClient.open(bootstrap);
    try {
      const hs = await w.send(SaslHandshakeRequest, SaslHandshakeResponse, 1, { mechanism: 'PLAIN' });
      if (hs.errorCode !== 0) throw new Error(`SaslHandshake: error ${hs.errorCode}`);
      const auth = await w.send(SaslAuthenticateRequest, SaslAuthenticateResponse, 2, { authBytes: Buffer.from(`\0${username}\0${password}`) });
      if (auth.errorCode !== 0) throw new Error(`SaslAuthenticate: error ${auth.errorCode} ${auth.errorMessage}`);
    } catch (err) {
      w.close();
      throw err;
    }
    return w;
  }

  async send<Req extends object, Res extends object>(request: MessageCodec<Req>, response: MessageCodec<Res>, version: number, body: Req): Promise<Res> {
    const w = new Writer();
    const correlationId = ++this.correlationId;
    encodeRequestHeader(w, requestHeaderVersion(request.apiKey, version), { apiKey: request.apiKey, apiVersion: version, correlationId, clientId: 'admin-wire' });
    request.encode(w, version, body);
    const payload = w.toBuffer();
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length);
    const frame = await new Promise<Buffer>((resolve, reject) => {
      // A connection that already closed (the broker restarted) would never answer.
      if (this.socket.destroyed) return reject(new Error('connection closed'));
      this.waiting = resolve;
      this.failWaiting = reject;
      this.socket.write(Buffer.concat([size, payload]));
    });
    const r = new Reader(frame);
    const header = decodeResponseHeader(r, responseHeaderVersion(request.apiKey, version));
    if (header.correlationId !== correlationId) throw new Error(`correlation id ${header.correlationId}, expected ${correlationId}`);
    return response.decode(r, version);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Opens wire clients to `bootstrap()` (read at each open, so it follows a restarted broker) and
 * closes them all at the end of a suite. */
export function wirePool(bootstrap: () => string): { open(): Promise<WireClient>; closeAll(): void } {
  const open: WireClient[] = [];
  return {
    async open() {
      const w = await WireClient.open(bootstrap());
      open.push(w);
      return w;
    },
    closeAll() {
      for (const w of open.splice(0)) w.close();
    },
  };
}
