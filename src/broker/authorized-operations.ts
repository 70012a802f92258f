// The `AuthorizedOperations` bit fields of Metadata, DescribeCluster, DescribeGroups,
// ConsumerGroupDescribe and DescribeTopicPartitions, as Kafka's AuthHelper.authorizedOperations
// computes them: bit N set when the request's principal may perform AclOperation N on the
// resource, over the operations its resource type supports (Kafka's AclEntry.supportedOperations);
// without an authorizer every supported operation is set. Not asked for, the field is Kafka's
// "omitted" value, INT32_MIN.
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../protocol/acls.js';
import { isAllowed, UNAUDITED, type RequestAuthorizer, type Requester } from './authorizer.js';

/** The field's value when the request did not ask for authorized operations. */
export const OPERATIONS_NOT_REQUESTED = -2147483648;

const { READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE } = AclOperation;

/** The operations each resource type supports (Kafka's AclEntry.supportedOperations). */
const SUPPORTED_OPERATIONS: ReadonlyMap<number, readonly number[]> = new Map([
  [ResourceType.TOPIC, [READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS]],
  [ResourceType.GROUP, [READ, DESCRIBE, DELETE, DESCRIBE_CONFIGS, ALTER_CONFIGS]],
  [ResourceType.CLUSTER, [CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE]],
  [ResourceType.TRANSACTIONAL_ID, [DESCRIBE, WRITE]],
]);

/** The allowed operations of one resource as a bit field. */
export function authorizedOperations(authorizer: RequestAuthorizer | null, requester: Requester, resourceType: number, resourceName: string): number {
  const supported = SUPPORTED_OPERATIONS.get(resourceType);
  if (supported === undefined) throw new Error(`no authorized operations for resource type ${resourceType}`);
  let field = 0;
  // A probe that grants nothing: logged at trace only, as Kafka's authorizedOperations.
  for (const op of supported) if (isAllowed(authorizer, requester, op, resourceType, resourceName, UNAUDITED)) field |= 1 << op;
  return field;
}

/** The cluster's field (Metadata v8-10, DescribeCluster): 0 without DESCRIBE on the cluster, as Kafka. */
export function clusterAuthorizedOperations(requested: boolean, authorizer: RequestAuthorizer | null, requester: Requester): number {
  if (!requested) return OPERATIONS_NOT_REQUESTED;
  if (!isAllowed(authorizer, requester, DESCRIBE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)) return 0;
  return authorizedOperations(authorizer, requester, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
}
