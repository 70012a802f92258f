// The broker's authorizer (authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer):
// decides with the ACLs of the current metadata image (metadata/acls.ts) for a request's principal
// and client address. A broker without one authorizes everything, as Kafka's does.
import { authorize, type AuthorizerSettings } from '../protocol/acls.js';
import { ErrorCode } from '../protocol/errors.js';
import type { MetadataImage } from '../metadata/image.js';
import type { BrokerConfig } from './config.js';

/** Kafka's principal of an unauthenticated connection. */
export const ANONYMOUS_PRINCIPAL = 'User:ANONYMOUS';

/** What handlers ask: may this principal from this host do this to this resource? */
export interface RequestAuthorizer {
  allows(principal: string, host: string, operation: number, resourceType: number, resourceName: string): boolean;
}

/** For listeners only other Tributary nodes use (the controller listener): everything is allowed. */
export const TRUSTED_PEERS: RequestAuthorizer = { allows: () => true };

export class Authorizer implements RequestAuthorizer {
  constructor(
    private readonly image: () => MetadataImage,
    private readonly settings: AuthorizerSettings,
  ) {}

  /** Null when the config names no authorizer. */
  static fromConfig(config: BrokerConfig, image: () => MetadataImage): Authorizer | null {
    if (config.string('authorizer.class.name') === '') return null;
    const superUsers = new Set(
      config
        .string('super.users')
        .split(';')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    );
    return new Authorizer(image, { superUsers, allowEveryoneIfNoAclFound: config.bool('allow.everyone.if.no.acl.found') });
  }

  allows(principal: string, host: string, operation: number, resourceType: number, resourceName: string): boolean {
    return authorize(this.image().aclsOfType(resourceType), this.settings, principal, host, operation, resourceType, resourceName);
  }
}

/** What a decision needs of the connection a request came on. */
export interface Requester {
  readonly sasl: { readonly principal: string | null } | null;
  readonly remoteAddress: string;
}

/** The principal a request acts as: the SASL user, else Kafka's anonymous one. */
export function principalOf(connection: { readonly sasl: { readonly principal: string | null } | null }): string {
  return connection.sasl?.principal ?? ANONYMOUS_PRINCIPAL;
}

/** Whether the request on `connection` may do `operation` on the resource; true without an authorizer. */
export function isAllowed(
  authorizer: RequestAuthorizer | null,
  connection: Requester,
  operation: number,
  resourceType: number,
  resourceName: string,
): boolean {
  return authorizer === null || authorizer.allows(principalOf(connection), connection.remoteAddress, operation, resourceType, resourceName);
}

/** Kafka's message of each *_AUTHORIZATION_FAILED code (Errors.message()), for error message fields. */
export const AUTHORIZATION_FAILED_MESSAGE: Readonly<Record<number, string>> = {
  [ErrorCode.TOPIC_AUTHORIZATION_FAILED]: 'Topic authorization failed.',
  [ErrorCode.GROUP_AUTHORIZATION_FAILED]: 'Group authorization failed.',
  [ErrorCode.CLUSTER_AUTHORIZATION_FAILED]: 'Cluster authorization failed.',
  [ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]: 'Transactional Id authorization failed.',
};

/**
 * A response's entries in request order, when only the allowed items of a request went on to be
 * answered: `answered` holds the answers of the items with `allowed[i]`, in order, and each
 * other item gets `refused(item, i)`.
 */
export function inRequestOrder<T, R>(items: readonly T[], allowed: readonly boolean[], answered: readonly R[], refused: (item: T, index: number) => R): R[] {
  let next = 0;
  const out = items.map((item, i) => (allowed[i] ? answered[next++]! : refused(item, i)));
  if (next !== answered.length) throw new Error(`${answered.length} answers for ${next} allowed items`);
  return out;
}
