// DescribeAcls (key 29), CreateAcls (key 30) and DeleteAcls (key 31), v0-3 (KIP-140, prefixed
// patterns since v1 / KIP-290): the ACLs of the cluster metadata, changed through the controller.
// As Kafka: without an authorizer every request answers SECURITY_DISABLED; describing needs
// DESCRIBE on the cluster and changing ALTER on the cluster (CLUSTER_AUTHORIZATION_FAILED).
// Version 0 knows only LITERAL patterns.
import { AclOperation, PatternType, ResourceType, CLUSTER_RESOURCE_NAME, aclFilterMatches, aclFilterProblem, fromAclCreation, fromAclFilterFields, toMatchingAcl, type AclBinding } from '../../protocol/acls.js';
import { ErrorCode } from '../../protocol/errors.js';
import { CreateAclsRequest } from '../../protocol/messages/CreateAclsRequest.js';
import { CreateAclsResponse } from '../../protocol/messages/CreateAclsResponse.js';
import { DeleteAclsRequest } from '../../protocol/messages/DeleteAclsRequest.js';
import { DeleteAclsResponse } from '../../protocol/messages/DeleteAclsResponse.js';
import { DescribeAclsRequest } from '../../protocol/messages/DescribeAclsRequest.js';
import { DescribeAclsResponse, type DescribeAclsResponseDescribeAclsResource } from '../../protocol/messages/DescribeAclsResponse.js';
import { defineHandler, type RequestContext } from '../../server/request-router.js';
import { principalOf } from '../authorizer.js';
import type { BrokerContext } from '../broker-context.js';

const NO_AUTHORIZER = 'No Authorizer is configured.';

/** Null when allowed, else the error to answer with. */
function clusterCheck(broker: BrokerContext, ctx: RequestContext, operation: number): { errorCode: number; errorMessage: string } | null {
  if (broker.authorizer === null) return { errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER };
  if (!broker.authorizer.allows(principalOf(ctx.connection), ctx.connection.remoteAddress, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)) {
    return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' };
  }
  return null;
}

export function describeAclsHandler(broker: BrokerContext) {
  return defineHandler({
    request: DescribeAclsRequest,
    response: DescribeAclsResponse,
    minVersion: 0,
    maxVersion: 3,
    handle(ctx, req) {
      const res = DescribeAclsResponse.defaults();
      const refused = clusterCheck(broker, ctx, AclOperation.DESCRIBE);
      if (refused !== null) {
        res.errorCode = refused.errorCode;
        res.errorMessage = refused.errorCode === ErrorCode.SECURITY_DISABLED ? 'No Authorizer is configured on the broker' : refused.errorMessage;
        return res;
      }
      const filter = fromAclFilterFields(ctx.apiVersion === 0 ? { ...req, patternTypeFilter: PatternType.LITERAL } : req);
      const problem = aclFilterProblem(filter);
      if (problem !== null) {
        res.errorCode = ErrorCode.INVALID_REQUEST;
        res.errorMessage = problem;
        return res;
      }
      const byResource = new Map<string, DescribeAclsResponseDescribeAclsResource>();
      for (const acl of broker.metadata.image.acls.values()) {
        if (!aclFilterMatches(filter, acl)) continue;
        const key = `${acl.resourceType}\0${acl.patternType}\0${acl.resourceName}`;
        let r = byResource.get(key);
        if (r === undefined) byResource.set(key, (r = { resourceType: acl.resourceType, resourceName: acl.resourceName, patternType: acl.patternType, acls: [] }));
        r.acls.push({ principal: acl.principal, host: acl.host, operation: acl.operation, permissionType: acl.permission });
      }
      res.resources = [...byResource.values()];
      return res;
    },
  });
}

export function createAclsHandler(broker: BrokerContext) {
  return defineHandler({
    request: CreateAclsRequest,
    response: CreateAclsResponse,
    minVersion: 0,
    maxVersion: 3,
    async handle(ctx, req) {
      const res = CreateAclsResponse.defaults();
      const refused = clusterCheck(broker, ctx, AclOperation.ALTER);
      if (refused !== null) {
        res.results = req.creations.map(() => ({ ...refused }));
        return res;
      }
      const bindings: AclBinding[] = req.creations.map((c) => fromAclCreation(ctx.apiVersion === 0 ? { ...c, resourcePatternType: PatternType.LITERAL } : c));
      const results = await broker.controller.createAcls(bindings);
      res.results = results.map((r) => ({ errorCode: r.errorCode, errorMessage: r.errorMessage }));
      return res;
    },
  });
}

export function deleteAclsHandler(broker: BrokerContext) {
  return defineHandler({
    request: DeleteAclsRequest,
    response: DeleteAclsResponse,
    minVersion: 0,
    maxVersion: 3,
    async handle(ctx, req) {
      const res = DeleteAclsResponse.defaults();
      const refused = clusterCheck(broker, ctx, AclOperation.ALTER);
      if (refused !== null) {
        res.filterResults = req.filters.map(() => ({ ...refused, matchingAcls: [] }));
        return res;
      }
      const filters = req.filters.map((f) => fromAclFilterFields(ctx.apiVersion === 0 ? { ...f, patternTypeFilter: PatternType.LITERAL } : f));
      const results = await broker.controller.deleteAcls(filters);
      res.filterResults = results.map((r) => ({
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        matchingAcls: r.deleted.map(toMatchingAcl),
      }));
      return res;
    },
  });
}
