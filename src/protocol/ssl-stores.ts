// Kafka's ssl.* key store, trust store and protocol settings as Node.js TLS options, for both
// sides: the broker's SSL listeners (broker/tls-settings.ts) and our client (client/properties.ts).
// Kafka's store types: PKCS12 and PEM (a file holding the private key and the certificate chain,
// or the same inline); JKS, which Node.js cannot read, is refused with the command that converts
// it. Trust stores must be PEM (Node.js reads CA certificates from PEM only).
import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';

/** A setting's value, or null when unset. */
export type SslSettingReader = (key: string) => string | null;
/** Throws an error about `key` (the caller names where it came from). */
export type SslSettingFailure = (key: string, why: string) => never;

const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
type TlsVersion = (typeof TLS_VERSIONS)[number];

export interface SslStoreOptions extends SecureContextOptions {
  /** True when a key store (own certificate and key) was given. */
  readonly hasKeyStore: boolean;
}

/** Reads the key store (optional), the trust store (optional), ssl.enabled.protocols and ssl.cipher.suites. */
export function sslStoreOptions(get: SslSettingReader, fail: SslSettingFailure): SslStoreOptions {
  const file = (key: string): Buffer => {
    const path = get(key)!;
    try {
      return readFileSync(path);
    } catch (err) {
      return fail(key, `cannot read '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const options: SecureContextOptions = {};
  let hasKeyStore = true;
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
    if (type === 'JKS') {
      fail('ssl.keystore.type', `JKS key stores cannot be read by Tributary (Node.js has no JKS reader); convert it with 'keytool -importkeystore -srckeystore ${get('ssl.keystore.location')} -destkeystore keystore.p12 -deststoretype PKCS12' and set ssl.keystore.type=PKCS12`);
    }
    if (type !== 'PKCS12' && type !== 'PEM') fail('ssl.keystore.type', `unknown key store type '${type}' (PKCS12 or PEM)`);
    const bytes = file('ssl.keystore.location');
    if (type === 'PKCS12') {
      options.pfx = bytes;
      if (storePassword !== undefined) options.passphrase = storePassword;
    } else {
      // One file with the private key and the certificate chain, as Kafka's PEM key store.
      options.cert = bytes;
      options.key = bytes;
      if (keyPassword !== undefined) options.passphrase = keyPassword;
    }
  } else {
    hasKeyStore = false;
  }

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

  const enabled = (get('ssl.enabled.protocols') ?? 'TLSv1.2,TLSv1.3').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const p of enabled) if (!TLS_VERSIONS.includes(p as TlsVersion)) fail('ssl.enabled.protocols', `unknown protocol '${p}' (one of ${TLS_VERSIONS.join(', ')})`);
  if (enabled.length === 0) fail('ssl.enabled.protocols', 'at least one protocol is needed');
  const ordered = TLS_VERSIONS.filter((v) => enabled.includes(v));
  options.minVersion = ordered[0]!;
  options.maxVersion = ordered[ordered.length - 1]!;

  const ciphers = get('ssl.cipher.suites');
  if (ciphers !== null && ciphers.trim() !== '') options.ciphers = ciphers.split(',').map((s) => s.trim()).join(':');
  return { ...options, hasKeyStore };
}

/** Which key an error of createSecureContext is about, and the message to give. */
export function secureContextProblem(err: Error, keyStoreKey: string): { key: string; why: string } {
  const msg = err.message;
  if (/cipher/i.test(msg)) return { key: 'ssl.cipher.suites', why: msg };
  if (/mac verify|bad decrypt|password/i.test(msg)) return { key: keyStoreKey, why: `wrong password for the key store (ssl.keystore.password / ssl.key.password): ${msg}` };
  return { key: keyStoreKey, why: `the key store does not load: ${msg}` };
}
