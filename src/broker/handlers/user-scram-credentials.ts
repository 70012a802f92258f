// DescribeUserScramCredentials (key 50) and AlterUserScramCredentials (key 51), v0 (KIP-554): the
// SCRAM credentials of the metadata image, described as mechanism and iterations only (never
// salts or keys), and changed through the controller, which derives StoredKey and ServerKey from
// the salted password the client sends. An empty or null user list describes every user.
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../../protocol/acls.js';
import { ErrorCode } from '../../protocol/errors.js';
import { isAllowed } from '../authorizer.js';
import { AlterUserScramCredentialsRequest } from '../../protocol/messages/AlterUserScramCredentialsRequest.js';
import { AlterUserScramCredentialsResponse } from '../../protocol/messages/AlterUserScramCredentialsResponse.js';
import { DescribeUserScramCredentialsRequest } from '../../protocol/messages/DescribeUserScramCredentialsRequest.js';
import { DescribeUserScramCredentialsResponse } from '../../protocol/messages/DescribeUserScramCredentialsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function describeUserScramCredentialsHandler(broker: BrokerContext) {
  return defineHandler({
    request: DescribeUserScramCredentialsRequest,
    response: DescribeUserScramCredentialsResponse,
    minVersion: 0,
    maxVersion: 0,
    handle(ctx, req) {
      const credentials = broker.metadata.image.scramCredentials;
      const res = DescribeUserScramCredentialsResponse.defaults();
      if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)) {
        res.errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
        res.errorMessage = 'Cluster authorization failed.';
        return res;
      }
      const describeAll = req.users === null || req.users.length === 0;
      const names = describeAll ? [...credentials.keys()].sort() : req.users!.map((u) => u.name);
      const counts = new Map<string, number>();
      for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
      const answered = new Set<string>();
      for (const user of names) {
        if (answered.has(user)) continue;
        answered.add(user);
        const infos = credentials.get(user);
        if (counts.get(user)! > 1) {
          res.results.push({ user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`, credentialInfos: [] });
        } else if (infos === undefined) {
          res.results.push({ user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}`, credentialInfos: [] });
        } else {
          const credentialInfos = [...infos].sort(([a], [b]) => a - b).map(([mechanism, c]) => ({ mechanism, iterations: c.iterations }));
          res.results.push({ user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos });
        }
      }
      return res;
    },
  });
}

export function alterUserScramCredentialsHandler(broker: BrokerContext) {
  return defineHandler({
    request: AlterUserScramCredentialsRequest,
    response: AlterUserScramCredentialsResponse,
    minVersion: 0,
    maxVersion: 0,
    async handle(ctx, req) {
      if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)) {
        const refused = AlterUserScramCredentialsResponse.defaults();
        const users = [...new Set([...req.deletions, ...req.upsertions].map((c) => c.name))];
        refused.results = users.map((user) => ({ user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' }));
        return refused;
      }
      const results = await broker.controller.alterUserScramCredentials(
        req.deletions.map((d) => ({ name: d.name, mechanism: d.mechanism })),
        req.upsertions.map((u) => ({ name: u.name, mechanism: u.mechanism, iterations: u.iterations, salt: u.salt, saltedPassword: u.saltedPassword })),
      );
      const res = AlterUserScramCredentialsResponse.defaults();
      res.results = results.map((r) => ({ user: r.user, errorCode: r.errorCode, errorMessage: r.errorMessage }));
      for (const r of results) if (r.errorCode !== ErrorCode.NONE) broker.log.info({ user: r.user, errorCode: r.errorCode, error: r.errorMessage }, 'SCRAM credential change refused');
      return res;
    },
  });
}
