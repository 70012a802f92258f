// Plans AlterUserScramCredentials as Kafka's ScramControlManager does: per user a result, the
// records of the users that passed validation written together. A user may appear once per
// request (deletions and upsertions together); iterations within the mechanism's bounds; a
// deletion must name an existing credential. The controller stores StoredKey and ServerKey
// derived from the salted password the client computed, never the password.
import type { ScramCredentialDeletion, ScramCredentialUpsertion } from '../metadata/controller-channel.js';
import type { MetadataImage } from '../metadata/image.js';
import { MetadataRecordType, type MetadataRecord } from '../metadata/records.js';
import { ErrorCode } from '../protocol/errors.js';
import { scramCredential, scramMechanismByType } from '../protocol/scram.js';

export interface ScramUserResult {
  user: string;
  errorCode: number;
  errorMessage: string | null;
}

const TWICE = 'A user credential cannot be altered twice in the same request';

export function planScramChanges(
  image: MetadataImage,
  deletions: readonly ScramCredentialDeletion[],
  upsertions: readonly ScramCredentialUpsertion[],
): { records: MetadataRecord[]; results: ScramUserResult[] } {
  const errors = new Map<string, { errorCode: number; errorMessage: string }>();
  const accepted = new Map<string, MetadataRecord>();
  const order: string[] = [];
  const see = (user: string) => {
    if (!errors.has(user) && !accepted.has(user)) order.push(user);
  };
  const refuse = (user: string, errorCode: number, errorMessage: string) => {
    accepted.delete(user);
    errors.set(user, { errorCode, errorMessage });
  };
  for (const d of deletions) {
    if (errors.has(d.name)) continue;
    see(d.name);
    if (accepted.has(d.name)) refuse(d.name, ErrorCode.DUPLICATE_RESOURCE, TWICE);
    else {
      const problem = nameAndMechanismProblem(d.name, d.mechanism) ?? (image.scramCredentials.get(d.name)?.has(d.mechanism) === true ? null : { errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to delete a user credential that does not exist' });
      if (problem !== null) refuse(d.name, problem.errorCode, problem.errorMessage);
      else accepted.set(d.name, { type: MetadataRecordType.RemoveUserScramCredentialRecord, version: 0, data: { name: d.name, mechanism: d.mechanism } });
    }
  }
  for (const u of upsertions) {
    if (errors.has(u.name)) continue;
    see(u.name);
    if (accepted.has(u.name)) {
      refuse(u.name, ErrorCode.DUPLICATE_RESOURCE, TWICE);
      continue;
    }
    const problem = nameAndMechanismProblem(u.name, u.mechanism);
    if (problem !== null) {
      refuse(u.name, problem.errorCode, problem.errorMessage);
      continue;
    }
    const m = scramMechanismByType(u.mechanism)!;
    if (u.iterations < m.minIterations) refuse(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations');
    else if (u.iterations > m.maxIterations) refuse(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations');
    else if (u.saltedPassword.length !== m.keyBytes || u.salt.length === 0) refuse(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, `The salted password of ${m.name} must be ${m.keyBytes} bytes, with a salt`);
    else {
      // Copied: the request's bytes are a view of a pooled receive buffer.
      const c = scramCredential(m, u.saltedPassword, Buffer.from(u.salt), u.iterations);
      accepted.set(u.name, { type: MetadataRecordType.UserScramCredentialRecord, version: 0, data: { name: u.name, mechanism: u.mechanism, salt: c.salt, storedKey: c.storedKey, serverKey: c.serverKey, iterations: c.iterations } });
    }
  }
  const records: MetadataRecord[] = [];
  const results = order.map((user) => {
    const e = errors.get(user);
    if (e !== undefined) return { user, errorCode: e.errorCode, errorMessage: e.errorMessage };
    records.push(accepted.get(user)!);
    return { user, errorCode: ErrorCode.NONE, errorMessage: null };
  });
  return { records, results };
}

function nameAndMechanismProblem(user: string, mechanism: number): { errorCode: number; errorMessage: string } | null {
  if (user === '') return { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Username must not be empty' };
  if (scramMechanismByType(mechanism) === undefined) return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, errorMessage: 'Unknown SCRAM mechanism' };
  return null;
}
