// TLS for SSL listeners, from Kafka's ssl.* settings (the stores: protocol/ssl-stores.ts) plus
// ssl.client.auth. Every setting can be given per listener as
// `listener.name.<listener>.ssl.<setting>`, which wins over `ssl.<setting>`. Everything is read
// and checked when the configuration loads, so a bad file or password stops start-up with a
// message naming the key, never the first handshake.
import { createSecureContext, type TlsOptions } from 'node:tls';
import { secureContextProblem, sslStoreOptions } from '../protocol/ssl-stores.js';

/** The server options of one TLS listener, ready for tls.createServer. */
export type TlsListenerOptions = TlsOptions;

/** Reads a setting: its listener-prefixed form first, then the plain one; null when unset. */
export type SettingReader = (key: string) => string | null;

export class TlsSettingsError extends Error {}

/** The options of the SSL listener `listener`; throws TlsSettingsError naming the key at fault. */
export function tlsListenerOptions(listener: string, read: SettingReader): TlsListenerOptions {
  const prefix = `listener.name.${listener.toLowerCase()}.`;
  // Which key a value came from, for messages.
  const keyOf = (key: string) => (read(prefix + key) !== null ? prefix + key : key);
  const get = (key: string) => read(prefix + key) ?? read(key);
  const fail = (key: string, why: string): never => {
    throw new TlsSettingsError(`Invalid configuration '${keyOf(key)}' for SSL listener ${listener}: ${why}`);
  };
  const { hasKeyStore, ...options }: TlsListenerOptions & { hasKeyStore: boolean } = sslStoreOptions(get, fail);
  if (!hasKeyStore) fail('ssl.keystore.location', 'an SSL listener needs a key store: ssl.keystore.location (PKCS12 or PEM), or ssl.keystore.certificate.chain with ssl.keystore.key');

  const clientAuth = (get('ssl.client.auth') ?? 'none').toLowerCase();
  if (clientAuth === 'required') {
    options.requestCert = true;
    options.rejectUnauthorized = true;
  } else if (clientAuth === 'requested') {
    // Asked for, checked when given; a client without one still connects.
    options.requestCert = true;
    options.rejectUnauthorized = false;
  } else if (clientAuth !== 'none') {
    fail('ssl.client.auth', `must be one of required, requested, none`);
  }
  if (options.requestCert === true && options.ca === undefined) {
    fail('ssl.truststore.location', `ssl.client.auth=${clientAuth} needs a trust store with the CA that signs client certificates`);
  }

  // Fail now, naming the key store, rather than at the first handshake.
  try {
    createSecureContext(options);
  } catch (err) {
    const { key, why } = secureContextProblem(err as Error, get('ssl.keystore.certificate.chain') !== null ? 'ssl.keystore.certificate.chain' : 'ssl.keystore.location');
    fail(key, why);
  }
  return options;
}
