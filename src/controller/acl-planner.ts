// Plans CreateAcls and DeleteAcls as Kafka's AclControlManager does: each new binding is checked
// on its own (a refused one does not stop the others) and an existing identical binding is not
// written twice; a deletion removes every binding its filter matches, all filters together, at
// most MAX_RECORDS_PER_USER_OP bindings in one request.
import { aclBindingProblem, aclFilterMatches, aclFilterProblem, sameAclBinding, type AclBinding, type AclBindingFilter } from '../protocol/acls.js';
import { MAX_RECORDS_PER_USER_OP, type ItemResult } from '../metadata/controller-channel.js';
import type { MetadataImage } from '../metadata/image.js';
import { MetadataRecordType, type MetadataRecord } from '../metadata/records.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';

export interface AclDeletion {
  errorCode: number;
  errorMessage: string | null;
  /** The bindings the filter removed. */
  deleted: AclBinding[];
}

export function planCreateAcls(image: MetadataImage, bindings: readonly AclBinding[], newId: () => string): { records: MetadataRecord[]; results: ItemResult[] } {
  const records: MetadataRecord[] = [];
  const planned: AclBinding[] = [];
  const results = bindings.map((b): ItemResult => {
    const problem = aclBindingProblem(b);
    if (problem !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, value: null };
    const exists = image.aclsOfType(b.resourceType).some((a) => sameAclBinding(a, b)) || planned.some((a) => sameAclBinding(a, b));
    if (!exists) {
      if (records.length >= MAX_RECORDS_PER_USER_OP) return { errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: `Cannot create more than ${MAX_RECORDS_PER_USER_OP} acls in a single request.`, value: null };
      planned.push(b);
      records.push({
        type: MetadataRecordType.AccessControlEntryRecord,
        version: 0,
        data: { id: newId(), resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType, principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permission },
      });
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, value: null };
  });
  return { records, results };
}

export function planDeleteAcls(image: MetadataImage, filters: readonly AclBindingFilter[]): { records: MetadataRecord[]; results: AclDeletion[] } {
  const removed = new Set<string>();
  const results = filters.map((f): AclDeletion => {
    const problem = aclFilterProblem(f);
    if (problem !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, deleted: [] };
    const deleted: AclBinding[] = [];
    for (const [id, acl] of image.acls) {
      if (!aclFilterMatches(f, acl)) continue;
      deleted.push(acl);
      removed.add(id);
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, deleted };
  });
  if (removed.size > MAX_RECORDS_PER_USER_OP) throw new KafkaError(ErrorCode.POLICY_VIOLATION, `Cannot remove more than ${MAX_RECORDS_PER_USER_OP} acls in a single delete operation.`);
  const records: MetadataRecord[] = [...removed].map((id) => ({ type: MetadataRecordType.RemoveAccessControlEntryRecord, version: 0, data: { id } }));
  return { records, results };
}
