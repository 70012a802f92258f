// Test certificates made with openssl: a CA, a server certificate for 127.0.0.1/localhost
// signed by it (PEM and PKCS12), a client certificate signed by it, and an untrusted one; and
// client certificates with chosen subjects signed by that CA (makeClientCertificate).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });

export /** A CA, a server certificate for 127.0.0.1/localhost signed by it, a client certificate signed
 * by it, and a self-signed client certificate nobody trusts; PEM files plus a PKCS12 key store. */
function makeCertificates(dir: string): Record<string, string> {
  const f = (name: string) => join(dir, name);
  const ssl = openssl;
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=Tributary Test CA');
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const who of ['server', 'client']) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${who === 'server' ? 'localhost' : 'alice'}/O=Tributary`);
    ssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.pem`), '-days', '2', ...(who === 'server' ? ['-extfile', f('san.ext')] : []));
  }
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('rogue.key'), '-out', f('rogue.pem'), '-days', '2', '-subj', '/CN=mallory');
  ssl('pkcs12', '-export', '-in', f('server.pem'), '-inkey', f('server.key'), '-out', f('server.p12'), '-passout', 'pass:secret-p12');
  // Kafka's PEM key store: the private key and the certificate chain in one file.
  writeFileSync(f('server-keystore.pem'), readFileSync(f('server.key'), 'utf8') + readFileSync(f('server.pem'), 'utf8'));
  return { ca: f('ca.pem'), serverP12: f('server.p12'), serverPem: f('server-keystore.pem'), clientCert: f('client.pem'), clientKey: f('client.key'), rogueCert: f('rogue.pem'), rogueKey: f('rogue.key') };
}


/** A client certificate for `subject` (openssl -subj syntax, most general first, `+` joining
 * the values of one RDN, `\` escaping) signed by the CA of makeCertificates(dir); returns
 * its PEM certificate and key files. */
export function makeClientCertificate(dir: string, name: string, subject: string): { cert: string; key: string } {
  const f = (file: string) => join(dir, file);
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-utf8', '-multivalue-rdn', '-subj', subject);
  openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2');
  return { cert: f(`${name}.pem`), key: f(`${name}.key`) };
}
