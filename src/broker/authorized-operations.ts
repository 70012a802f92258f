// The `AuthorizedOperations` bit fields of Metadata, DescribeCluster, DescribeGroups,
// ConsumerGroupDescribe and DescribeTopicPartitions: bit N set when AclOperation N is allowed.
// Every operation a resource type supports is reported allowed (ACLs are not yet applied to these
// fields, as Kafka answers without an authorizer); not asked for, the field is Kafka's "omitted"
// value, INT32_MIN.
import { AclOperation } from '../protocol/acls.js';

const bits = (...ops: number[]): number => ops.reduce((field, op) => field | (1 << op), 0);

/** The field's value when the request did not ask for authorized operations. */
export const OPERATIONS_NOT_REQUESTED = -2147483648;

const { READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE } = AclOperation;

/** Every operation a topic supports (Kafka's TOPIC resource type). */
export const TOPIC_OPERATIONS = bits(READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS);
/** Every operation the cluster supports (Kafka's CLUSTER resource type). */
export const CLUSTER_OPERATIONS = bits(CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE);
/** Every operation a group supports (Kafka's GROUP resource type; configs since KIP-848). */
export const GROUP_OPERATIONS = bits(READ, DESCRIBE, DELETE, DESCRIBE_CONFIGS, ALTER_CONFIGS);

/** The field for a resource: all its operations when asked for, else the omitted value. */
export function authorizedOperations(requested: boolean, all: number): number {
  return requested ? all : OPERATIONS_NOT_REQUESTED;
}
