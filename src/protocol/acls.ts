// Access control lists as Kafka's StandardAuthorizer keeps them in the metadata (KIP-801), shared
// by the broker, the controller and the admin client: a binding is a resource pattern (type, name,
// LITERAL or PREFIXED) and an entry (principal, host, operation, ALLOW or DENY). Filters
// (DescribeAcls, DeleteAcls) match bindings with ANY and MATCH as Kafka's AclBindingFilter does;
// authorize() decides as StandardAuthorizerData: super users are allowed everything, a matching
// DENY wins over a matching ALLOW, ALLOW of READ, WRITE, DELETE or ALTER implies DESCRIBE and
// ALLOW of ALTER_CONFIGS implies DESCRIBE_CONFIGS, and with no ACL on the resource at all,
// allow.everyone.if.no.acl.found decides. Pure values.
import type { CreateAclsRequestAclCreation } from './messages/CreateAclsRequest.js';
import type { DeleteAclsResponseDeleteAclsMatchingAcl } from './messages/DeleteAclsResponse.js';
import type { DescribeAclsRequestData } from './messages/DescribeAclsRequest.js';

/** Kafka's ResourceType codes. */
export const ResourceType = { UNKNOWN: 0, ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5, DELEGATION_TOKEN: 6, USER: 7 } as const;
/** Kafka's PatternType codes. */
export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
/** Kafka's AclOperation codes. */
export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
  TWO_PHASE_COMMIT: 15,
} as const;
/** Kafka's AclPermissionType codes. */
export const AclPermission = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** The name of the one CLUSTER resource. */
export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';
export const WILDCARD = '*';
export const WILDCARD_PRINCIPAL = 'User:*';

export interface AclBinding {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly patternType: number;
  /** `Type:name`, e.g. User:alice, or User:* for everyone. */
  readonly principal: string;
  /** An address, or * for any host. */
  readonly host: string;
  readonly operation: number;
  readonly permission: number;
}

/** A filter: null strings match anything; ANY codes match anything; MATCH patterns as Kafka. */
export interface AclBindingFilter {
  readonly resourceType: number;
  readonly resourceName: string | null;
  readonly patternType: number;
  readonly principal: string | null;
  readonly host: string | null;
  readonly operation: number;
  readonly permission: number;
}

const codeNames = (table: Record<string, number>): Map<number, string> => new Map(Object.entries(table).map(([k, v]) => [v, k]));
export const RESOURCE_TYPE_NAMES = codeNames(ResourceType);
export const PATTERN_TYPE_NAMES = codeNames(PatternType);
export const OPERATION_NAMES = codeNames(AclOperation);
export const PERMISSION_NAMES = codeNames(AclPermission);

/** Why `b` cannot be stored (Kafka's AclControlManager and AclApis checks), or null. */
export function aclBindingProblem(b: AclBinding): string | null {
  if (b.resourceType === ResourceType.UNKNOWN || b.resourceType === ResourceType.ANY || !RESOURCE_TYPE_NAMES.has(b.resourceType)) return `Invalid resourceType ${RESOURCE_TYPE_NAMES.get(b.resourceType) ?? b.resourceType}`;
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) return `Invalid patternType ${PATTERN_TYPE_NAMES.get(b.patternType) ?? b.patternType}`;
  if (b.operation === AclOperation.UNKNOWN || b.operation === AclOperation.ANY || !OPERATION_NAMES.has(b.operation)) return `Invalid operation ${OPERATION_NAMES.get(b.operation) ?? b.operation}`;
  if (b.permission !== AclPermission.ALLOW && b.permission !== AclPermission.DENY) return `Invalid permissionType ${PERMISSION_NAMES.get(b.permission) ?? b.permission}`;
  if (b.resourceName === '') return 'Invalid empty resource name';
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_RESOURCE_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_RESOURCE_NAME}`;
  if (!/^[^:]+:.*$/.test(b.principal)) return `Could not parse principal from \`${b.principal}\` (no colon is present separating the principal type from the principal name)`;
  if (b.host === '') return 'Invalid empty host';
  return null;
}

/** Why a filter is unusable (Kafka: unknown pattern or entry filters), or null. */
export function aclFilterProblem(f: AclBindingFilter): string | null {
  if (f.resourceType === ResourceType.UNKNOWN || f.patternType === PatternType.UNKNOWN) return 'Unknown patternFilter.';
  if (f.operation === AclOperation.UNKNOWN || f.permission === AclPermission.UNKNOWN) return 'Unknown entryFilter.';
  return null;
}

export function aclFilterMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (!patternFilterMatches(f, b)) return false;
  if (f.principal !== null && f.principal !== b.principal) return false;
  if (f.host !== null && f.host !== b.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== b.operation) return false;
  return f.permission === AclPermission.ANY || f.permission === b.permission;
}

function patternFilterMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.patternType === PatternType.MATCH) {
    // The bindings that would apply to a resource named f.resourceName.
    if (f.resourceName === null) return true;
    if (b.patternType === PatternType.LITERAL) return b.resourceName === f.resourceName || b.resourceName === WILDCARD;
    return b.patternType === PatternType.PREFIXED && f.resourceName.startsWith(b.resourceName);
  }
  if (f.patternType !== PatternType.ANY && f.patternType !== b.patternType) return false;
  return f.resourceName === null || f.resourceName === b.resourceName;
}

export function sameAclBinding(a: AclBinding, b: AclBinding): boolean {
  return (
    a.resourceType === b.resourceType &&
    a.resourceName === b.resourceName &&
    a.patternType === b.patternType &&
    a.principal === b.principal &&
    a.host === b.host &&
    a.operation === b.operation &&
    a.permission === b.permission
  );
}

/** What authorize() needs besides the ACLs: the broker's settings. */
export interface AuthorizerSettings {
  /** super.users, as `User:name` strings. */
  readonly superUsers: ReadonlySet<string>;
  /** allow.everyone.if.no.acl.found */
  readonly allowEveryoneIfNoAclFound: boolean;
}

const IMPLIES_DESCRIBE: ReadonlySet<number> = new Set([AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER]);
const IMPLIES_DESCRIBE_CONFIGS: ReadonlySet<number> = new Set([AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS]);

/**
 * Why a decision went the way it did, as Kafka's StandardAuthorizerData names its rules: a super
 * user; a matching ACL (a matching DENY is reported over any matching ALLOW); no ACL on the
 * resource at all, decided by allow.everyone.if.no.acl.found; or ACLs on the resource of which none
 * matches (denied).
 */
export type AclDecision =
  | { readonly allowed: boolean; readonly rule: 'super-user' | 'no-acl-found' | 'no-matching-acl'; readonly acl: null }
  | { readonly allowed: boolean; readonly rule: 'matching-acl'; readonly acl: AclBinding };

// The decisions without an ACL to name are shared constants: deciding allocates only for a match.
const SUPER_USER: AclDecision = { allowed: true, rule: 'super-user', acl: null };
const NO_ACL_ALLOWED: AclDecision = { allowed: true, rule: 'no-acl-found', acl: null };
const NO_ACL_DENIED: AclDecision = { allowed: false, rule: 'no-acl-found', acl: null };
const NO_MATCHING_ACL: AclDecision = { allowed: false, rule: 'no-matching-acl', acl: null };

/**
 * Whether `principal` from `host` may perform `operation` on the resource (`resourceType`,
 * `resourceName`), given every ACL binding of the cluster, and by which rule.
 */
export function decide(acls: Iterable<AclBinding>, settings: AuthorizerSettings, principal: string, host: string, operation: number, resourceType: number, resourceName: string): AclDecision {
  if (settings.superUsers.has(principal)) return SUPER_USER;
  let resourceHasAcls = false;
  let allowedBy: AclBinding | null = null;
  for (const acl of acls) {
    if (acl.resourceType !== resourceType || !patternApplies(acl, resourceName)) continue;
    resourceHasAcls = true;
    if (acl.principal !== principal && acl.principal !== WILDCARD_PRINCIPAL) continue;
    if (acl.host !== WILDCARD && acl.host !== host) continue;
    if (!operationApplies(acl, operation)) continue;
    if (acl.permission === AclPermission.DENY) return { allowed: false, rule: 'matching-acl', acl };
    allowedBy ??= acl;
  }
  if (allowedBy !== null) return { allowed: true, rule: 'matching-acl', acl: allowedBy };
  if (resourceHasAcls) return NO_MATCHING_ACL;
  return settings.allowEveryoneIfNoAclFound ? NO_ACL_ALLOWED : NO_ACL_DENIED;
}

/** decide(), the outcome only. */
export function authorize(acls: Iterable<AclBinding>, settings: AuthorizerSettings, principal: string, host: string, operation: number, resourceType: number, resourceName: string): boolean {
  return decide(acls, settings, principal, host, operation, resourceType, resourceName).allowed;
}

function patternApplies(acl: AclBinding, resourceName: string): boolean {
  if (acl.patternType === PatternType.PREFIXED) return resourceName.startsWith(acl.resourceName);
  return acl.resourceName === resourceName || acl.resourceName === WILDCARD;
}

function operationApplies(acl: AclBinding, operation: number): boolean {
  if (acl.operation === AclOperation.ALL) return true;
  // Implied operations hold for ALLOW only: a DENY of READ does not deny DESCRIBE.
  if (acl.permission === AclPermission.ALLOW) {
    if (operation === AclOperation.DESCRIBE) return IMPLIES_DESCRIBE.has(acl.operation);
    if (operation === AclOperation.DESCRIBE_CONFIGS) return IMPLIES_DESCRIBE_CONFIGS.has(acl.operation);
  }
  return acl.operation === operation;
}

// ---- wire forms: one conversion each way, for the admin client, the handlers and forwarding

/** A binding as CreateAcls carries it. */
export function toAclCreation(b: AclBinding): CreateAclsRequestAclCreation {
  return { resourceType: b.resourceType, resourceName: b.resourceName, resourcePatternType: b.patternType, principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permission };
}

export function fromAclCreation(c: CreateAclsRequestAclCreation): AclBinding {
  return { resourceType: c.resourceType, resourceName: c.resourceName, patternType: c.resourcePatternType, principal: c.principal, host: c.host, operation: c.operation, permission: c.permissionType };
}

/** A filter as DescribeAcls (and each DeleteAcls filter, the same fields) carries it. */
export function toAclFilterFields(f: AclBindingFilter): DescribeAclsRequestData {
  return { resourceTypeFilter: f.resourceType, resourceNameFilter: f.resourceName, patternTypeFilter: f.patternType, principalFilter: f.principal, hostFilter: f.host, operation: f.operation, permissionType: f.permission };
}

export function fromAclFilterFields(f: DescribeAclsRequestData): AclBindingFilter {
  return { resourceType: f.resourceTypeFilter, resourceName: f.resourceNameFilter, patternType: f.patternTypeFilter, principal: f.principalFilter, host: f.hostFilter, operation: f.operation, permission: f.permissionType };
}

/** A binding DeleteAcls removed, as its answer carries it. */
export function toMatchingAcl(b: AclBinding): DeleteAclsResponseDeleteAclsMatchingAcl {
  return { errorCode: 0, errorMessage: null, resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType, principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permission };
}

export function fromMatchingAcl(a: DeleteAclsResponseDeleteAclsMatchingAcl): AclBinding {
  return { resourceType: a.resourceType, resourceName: a.resourceName, patternType: a.patternType, principal: a.principal, host: a.host, operation: a.operation, permission: a.permissionType };
}
