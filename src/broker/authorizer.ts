// The broker's authorizer (authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer):
// decides with the ACLs of the current metadata image (metadata/acls.ts) for a request's principal
// and client address. A broker without one authorizes everything, as Kafka's does.
// Every decision is logged as Kafka's audit logger (kafka.authorizer.logger) logs it: at debug when
// allowed, at info when denied, each line naming the principal, host, operation, resource and the
// rule that decided. A caller that only filters or probes (Metadata of all topics, ListGroups, the
// authorized-operations fields) asks for its denials, or all its decisions, at trace instead, as
// Kafka's logIfAllowed/logIfDenied flags do, so filtering does not flood the info log.
import { decide, OPERATION_NAMES, PATTERN_TYPE_NAMES, PERMISSION_NAMES, PatternType, ResourceType, type AclDecision, type AuthorizerSettings } from '../protocol/acls.js';
import { ErrorCode } from '../protocol/errors.js';
import { loggerFor, type Logger } from '../logger.js';
import type { MetadataImage } from '../metadata/image.js';
import type { BrokerConfig } from './config.js';

/** Kafka's principal of an unauthenticated connection. */
export const ANONYMOUS_PRINCIPAL = 'User:ANONYMOUS';

/** Which outcomes of a decision the caller wants in the audit log (Kafka's Action.logIfAllowed
 * and logIfDenied); an outcome not wanted is logged at trace. */
export interface AuditLogging {
  readonly ifAllowed: boolean;
  readonly ifDenied: boolean;
}
/** The default: the request asked for this resource; allowed at debug, denied at info. */
export const AUDITED: AuditLogging = { ifAllowed: true, ifDenied: true };
/** A check whose denial only filters (topics of Metadata for all topics, groups of ListGroups) or
 * falls back to another check (CREATE on the cluster before CREATE on the topic). */
export const DENIAL_UNAUDITED: AuditLogging = { ifAllowed: true, ifDenied: false };
/** A probe that grants nothing (the authorized-operations fields). */
export const UNAUDITED: AuditLogging = { ifAllowed: false, ifDenied: false };

/** What handlers ask: may this principal from this host do this to this resource? */
export interface RequestAuthorizer {
  allows(principal: string, host: string, operation: number, resourceType: number, resourceName: string, audit?: AuditLogging): boolean;
}

/** For listeners only other Tributary nodes use (the controller listener): everything is allowed. */
export const TRUSTED_PEERS: RequestAuthorizer = { allows: () => true };

/** Kafka's names of resource types in audit lines (SecurityUtils.resourceTypeName). */
const RESOURCE_TYPE_AUDIT_NAMES: ReadonlyMap<number, string> = new Map([
  [ResourceType.TOPIC, 'Topic'],
  [ResourceType.GROUP, 'Group'],
  [ResourceType.CLUSTER, 'Cluster'],
  [ResourceType.TRANSACTIONAL_ID, 'TransactionalId'],
  [ResourceType.DELEGATION_TOKEN, 'DelegationToken'],
  [ResourceType.USER, 'User'],
]);

const resourceTypeName = (code: number): string => RESOURCE_TYPE_AUDIT_NAMES.get(code) ?? String(code);

/** The rule of a decision, in words (what Kafka's MatchingRule.toString says, spelt out). */
function describeRule(decision: AclDecision, settings: AuthorizerSettings): string {
  switch (decision.rule) {
    case 'super-user':
      return 'SuperUser';
    case 'no-acl-found':
      return `${decision.allowed ? 'DefaultAllow' : 'DefaultDeny'} (no ACL found, allow.everyone.if.no.acl.found=${settings.allowEveryoneIfNoAclFound})`;
    case 'no-matching-acl':
      return 'DefaultDeny (no ACL matches)';
    case 'matching-acl': {
      const a = decision.acl;
      const pattern = PATTERN_TYPE_NAMES.get(a.patternType) ?? String(a.patternType);
      return `MatchingAcl(principal=${a.principal}, host=${a.host}, operation=${OPERATION_NAMES.get(a.operation) ?? a.operation}, permissionType=${PERMISSION_NAMES.get(a.permission) ?? a.permission}, resource=${resourceTypeName(a.resourceType)}:${pattern}:${a.resourceName})`;
    }
  }
}

export class Authorizer implements RequestAuthorizer {
  constructor(
    private readonly image: () => MetadataImage,
    private readonly settings: AuthorizerSettings,
    private readonly log: Logger = loggerFor('authorizer'),
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

  allows(principal: string, host: string, operation: number, resourceType: number, resourceName: string, audit: AuditLogging = AUDITED): boolean {
    const decision = decide(this.image().aclsOfType(resourceType), this.settings, principal, host, operation, resourceType, resourceName);
    const level = decision.allowed ? (audit.ifAllowed ? 'debug' : 'trace') : audit.ifDenied ? 'info' : 'trace';
    // The line is built only when its level is on: decisions are made on every request.
    if (this.log.isLevelEnabled(level)) {
      const rule = describeRule(decision, this.settings);
      const operationName = OPERATION_NAMES.get(operation) ?? String(operation);
      const resource = `${resourceTypeName(resourceType)}:${PATTERN_TYPE_NAMES.get(PatternType.LITERAL)}:${resourceName}`;
      this.log[level](
        { principal, host, operation: operationName, resourceType: resourceTypeName(resourceType), resourceName, allowed: decision.allowed, rule },
        `Principal = ${principal} is ${decision.allowed ? 'Allowed' : 'Denied'} operation = ${operationName} from host = ${host} on resource = ${resource} based on rule ${rule}`,
      );
    }
    return decision.allowed;
  }
}

/** What a decision needs of the connection a request came on. */
export interface Requester extends Authenticated {
  readonly remoteAddress: string;
}

/** Who a connection authenticated as: its SASL state (SASL listeners) or the principal of its
 * client certificate (SSL listeners). */
export interface Authenticated {
  readonly sasl: { readonly principal: string | null } | null;
  readonly tlsPrincipal: string | null;
}

/** The principal a request acts as: the SASL user, else the client certificate's principal on
 * an SSL listener, else Kafka's anonymous one. */
export function principalOf(connection: Authenticated): string {
  return connection.sasl?.principal ?? connection.tlsPrincipal ?? ANONYMOUS_PRINCIPAL;
}

/** Whether the request on `connection` may do `operation` on the resource; true without an
 * authorizer. `audit` says which outcomes the audit log reports above trace. */
export function isAllowed(
  authorizer: RequestAuthorizer | null,
  connection: Requester,
  operation: number,
  resourceType: number,
  resourceName: string,
  audit: AuditLogging = AUDITED,
): boolean {
  return authorizer === null || authorizer.allows(principalOf(connection), connection.remoteAddress, operation, resourceType, resourceName, audit);
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
