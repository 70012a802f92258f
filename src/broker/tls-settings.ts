// TLS for SSL listeners, from Kafka's ssl.* settings: the key store (PKCS12, or PEM as a file or
// inline), the trust store for client certificates (PEM), ssl.client.auth, the enabled protocol
// versions and cipher suites. Every setting can be given per listener as
// `listener.name.<listener>.ssl.<setting>`, which wins over `ssl.<setting>`. Everything is read
// and checked when the configuration loads, so a bad file or password stops start-up with a
// message naming the key, never the first handshake.
import { readFileSync } from 'node:fs';
import { createSecureContext, type TlsOptions } from 'node:tls';

/** The server options of one TLS listener, ready for tls.createServer. */
export type TlsListenerOptions = TlsOptions;

/** Reads a setting: its listener-prefixed form first, then the plain one; null when unset. */
export type SettingReader = (key: string) => string | null;

export class TlsSettingsError extends Error {}

const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
type TlsVersion = (typeof TLS_VERSIONS)[number];

/** The options of the SSL listener `listener`; throws TlsSettingsError naming the key at fault. */
export function tlsListenerOptions(listener: string, read: SettingReader): TlsListenerOptions {
  const prefix = `listener.name.${listener.toLowerCase()}.`;
  // Which key a value came from, for messages.
  const keyOf = (key: string) => (read(prefix + key) !== null ? prefix + key : key);
  const get = (key: string) => read(prefix + key) ?? read(key);
  const fail = (key: string, why: string): never => {
    throw new TlsSettingsError(`Invalid configuration '${keyOf(key)}' for SSL listener ${listener}: ${why}`);
  };
  const file = (key: string): Buffer => {
    const path = get(key)!;
    try {
      return readFileSync(path);
    } catch (err) {
      return fail(key, `cannot read '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };

  const options: TlsListenerOptions = {};
  // The key store: this broker's certificate chain and private key.
  const inlineChain = get('ssl.keystore.certificate.chain');
  const inlineKey = get('ssl.keystore.key');
  const keyPassword = get('ssl.key.password') ?? undefined;
  const storePassword = get('ssl.keystore.password') ?? undefined;
  if (inlineChain !== null || inlineKey !== null) {
    if (inlineChain === null || inlineKey === null) fail(inlineChain === null ? 'ssl.keystore.certificate.chain' : 'ssl.keystore.key', 'ssl.keystore.certificate.chain and ssl.keystore.key go together');
    if (get('ssl.keystore.location') !== null) fail('ssl.keystore.location', 'give the key store either as a file or inline (ssl.keystore.certificate.chain), not both');
    options.cert = inlineChain!;
    options.key = inlineKey!;
    if (keyPassword !== undefined) options.passphrase = keyPassword;
  } else if (get('ssl.keystore.location') !== null) {
    const type = (get('ssl.keystore.type') ?? 'JKS').toUpperCase();
    const bytes = file('ssl.keystore.location');
    if (type === 'PKCS12') {
      options.pfx = bytes;
      if (storePassword !== undefined) options.passphrase = storePassword;
    } else if (type === 'PEM') {
      // One file with the private key and the certificate chain, as Kafka's PEM key store.
      options.cert = bytes;
      options.key = bytes;
      if (keyPassword !== undefined) options.passphrase = keyPassword;
    } else if (type === 'JKS') {
      fail('ssl.keystore.type', `JKS key stores cannot be read by Tributary (Node.js has no JKS reader); convert it with 'keytool -importkeystore -srckeystore ${get('ssl.keystore.location')} -destkeystore server.p12 -deststoretype PKCS12' and set ssl.keystore.type=PKCS12`);
    } else {
      fail('ssl.keystore.type', `unknown key store type '${type}' (PKCS12 or PEM)`);
    }
  } else {
    fail('ssl.keystore.location', 'an SSL listener needs a key store: ssl.keystore.location (PKCS12 or PEM), or ssl.keystore.certificate.chain with ssl.keystore.key');
  }

  // The trust store: the certificate authorities client certificates must be signed by.
  const inlineTrust = get('ssl.truststore.certificates');
  if (inlineTrust !== null) {
    options.ca = inlineTrust;
  } else if (get('ssl.truststore.location') !== null) {
    const type = (get('ssl.truststore.type') ?? 'JKS').toUpperCase();
    if (type !== 'PEM') {
      fail('ssl.truststore.type', `${type} trust stores cannot be read by Tributary; give the CA certificates as PEM (for PKCS12: 'openssl pkcs12 -in ${get('ssl.truststore.location')} -nokeys -out ca.pem') and set ssl.truststore.type=PEM`);
    }
    options.ca = file('ssl.truststore.location');
  }

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

  const enabled = (get('ssl.enabled.protocols') ?? 'TLSv1.2,TLSv1.3').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const p of enabled) if (!TLS_VERSIONS.includes(p as TlsVersion)) fail('ssl.enabled.protocols', `unknown protocol '${p}' (one of ${TLS_VERSIONS.join(', ')})`);
  if (enabled.length === 0) fail('ssl.enabled.protocols', 'at least one protocol is needed');
  const ordered = TLS_VERSIONS.filter((v) => enabled.includes(v));
  options.minVersion = ordered[0]!;
  options.maxVersion = ordered[ordered.length - 1]!;

  const ciphers = get('ssl.cipher.suites');
  if (ciphers !== null && ciphers.trim() !== '') options.ciphers = ciphers.split(',').map((s) => s.trim()).join(':');

  // Fail now, naming the key store, rather than at the first handshake.
  try {
    createSecureContext(options);
  } catch (err) {
    const key = inlineChain !== null ? 'ssl.keystore.certificate.chain' : 'ssl.keystore.location';
    const msg = (err as Error).message;
    if (/cipher/i.test(msg)) fail('ssl.cipher.suites', msg);
    if (/mac verify|bad decrypt|password/i.test(msg)) fail(key, `wrong password for the key store (ssl.keystore.password / ssl.key.password): ${msg}`);
    fail(key, `the key store does not load: ${msg}`);
  }
  return options;
}
