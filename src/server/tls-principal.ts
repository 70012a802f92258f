// The principal of a connection on an SSL listener, from the client certificate verified in
// the handshake, as Kafka's default principal builder: `User:` + the subject's RFC 2253 name
// mapped by ssl.principal.mapping.rules. No certificate (ssl.client.auth=requested or none):
// no principal here, so the connection is Kafka's anonymous one. On SASL_SSL listeners the SASL
// identity is the principal and this is not used.
import type { TLSSocket } from 'node:tls';
import type { SslPrincipalMapper } from './ssl-principal-mapper.js';
import { X500NameError, rfc2253SubjectOf } from './x500-name.js';

/** A principal (null: anonymous), or why the connection must be refused. */
export type TlsPrincipalOutcome = { readonly principal: string | null } | { readonly refused: string };

export function tlsPrincipalOf(socket: TLSSocket, mapper: SslPrincipalMapper): TlsPrincipalOutcome {
  const certificate = socket.getPeerX509Certificate();
  if (certificate === undefined) return { principal: null };
  // ssl.client.auth=requested lets a handshake with an untrusted certificate finish; Java fails
  // it (only a missing certificate is tolerated), so such a client is refused here.
  if (!socket.authorized) return { refused: `client certificate not trusted (${String(socket.authorizationError)})` };
  let dn: string;
  try {
    dn = rfc2253SubjectOf(certificate.raw);
  } catch (err) {
    if (err instanceof X500NameError) return { refused: `client certificate subject unreadable: ${err.message}` };
    throw err;
  }
  const name = mapper.map(dn);
  if (name === null) return { refused: `no rule of ssl.principal.mapping.rules applies to ${dn} (rules [${mapper.rules.join(', ')}])` };
  return { principal: `User:${name}` };
}
