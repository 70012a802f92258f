// The authorizer's audit log, as Kafka's StandardAuthorizer writes kafka.authorizer.logger: every
// decision a request asked for at debug when allowed and at info when denied, each naming the
// principal, host, operation, resource and rule; filtering and probing callers' decisions at
// trace only; and nothing built when the level is off.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { AclOperation, AclPermission, PatternType, ResourceType, type AclBinding } from '../protocol/acls.js';
import { MetadataImage, type MetadataImageParts } from '../metadata/image.js';
import type { Logger } from '../logger.js';
import { AUDITED, Authorizer, DENIAL_UNAUDITED, UNAUDITED } from './authorizer.js';

interface AuditLine {
  level: number;
  msg: string;
  principal: string;
  host: string;
  operation: string;
  resourceType: string;
  resourceName: string;
  allowed: boolean;
  rule: string;
}
const [TRACE, DEBUG, INFO] = [10, 20, 30];

function imageWith(acls: AclBinding[]): MetadataImage {
  // The empty image's parts, with these ACLs.
  return new MetadataImage({ ...(MetadataImage.EMPTY as unknown as MetadataImageParts), acls: new Map(acls.map((a, i) => [String(i), a])) });
}

const allow = (principal: string, resourceType: number, resourceName: string, operation: number): AclBinding => ({ resourceType, resourceName, patternType: PatternType.LITERAL, principal, host: '*', operation, permission: AclPermission.ALLOW });

/** An authorizer whose log lines (JSON, at `level` and above) land in the returned array. */
function audited(level: string, opts: { acls?: AclBinding[]; allowEveryoneIfNoAclFound?: boolean } = {}) {
  const lines: AuditLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as AuditLine);
      done();
    },
  });
  const image = imageWith(opts.acls ?? [allow('User:alice', ResourceType.TOPIC, 'orders', AclOperation.READ)]);
  const authorizer = new Authorizer(() => image, { superUsers: new Set(['User:admin']), allowEveryoneIfNoAclFound: opts.allowEveryoneIfNoAclFound ?? false }, pino({ level }, sink));
  return { authorizer, lines };
}

describe('Authorizer audit log', () => {
  it('a denial is logged at info with the principal, host, operation, resource and rule', () => {
    const { authorizer, lines } = audited('info');
    assert.equal(authorizer.allows('User:bob', '10.0.0.7', AclOperation.READ, ResourceType.TOPIC, 'orders'), false);
    assert.equal(lines.length, 1);
    const l = lines[0]!;
    assert.equal(l.level, INFO);
    assert.deepEqual([l.principal, l.host, l.operation, l.resourceType, l.resourceName, l.allowed], ['User:bob', '10.0.0.7', 'READ', 'Topic', 'orders', false]);
    assert.equal(l.msg, 'Principal = User:bob is Denied operation = READ from host = 10.0.0.7 on resource = Topic:LITERAL:orders based on rule DefaultDeny (no ACL matches)');
  });

  it('an allowed decision is logged at debug, naming the matching ACL; not at all at info', () => {
    const quiet = audited('info');
    assert.equal(quiet.authorizer.allows('User:alice', '10.0.0.7', AclOperation.READ, ResourceType.TOPIC, 'orders'), true);
    assert.deepEqual(quiet.lines, []);
    const { authorizer, lines } = audited('debug');
    assert.equal(authorizer.allows('User:alice', '10.0.0.7', AclOperation.DESCRIBE, ResourceType.TOPIC, 'orders'), true);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, DEBUG);
    assert.match(lines[0]!.msg, /^Principal = User:alice is Allowed operation = DESCRIBE from host = 10\.0\.0\.7 on resource = Topic:LITERAL:orders based on rule MatchingAcl\(principal=User:alice, host=\*, operation=READ, permissionType=ALLOW, resource=Topic:LITERAL:orders\)$/);
  });

  it('the rule says super user, or no ACL found with allow.everyone.if.no.acl.found', () => {
    const closed = audited('debug');
    closed.authorizer.allows('User:admin', '10.0.0.1', AclOperation.ALTER, ResourceType.CLUSTER, 'kafka-cluster');
    closed.authorizer.allows('User:bob', '10.0.0.1', AclOperation.READ, ResourceType.GROUP, 'g');
    assert.deepEqual(closed.lines.map((l) => [l.level, l.allowed, l.rule]), [
      [DEBUG, true, 'SuperUser'],
      [INFO, false, 'DefaultDeny (no ACL found, allow.everyone.if.no.acl.found=false)'],
    ]);
    const open = audited('debug', { allowEveryoneIfNoAclFound: true });
    assert.equal(open.authorizer.allows('User:bob', '10.0.0.1', AclOperation.READ, ResourceType.GROUP, 'g'), true);
    assert.deepEqual(open.lines.map((l) => [l.level, l.rule]), [[DEBUG, 'DefaultAllow (no ACL found, allow.everyone.if.no.acl.found=true)']]);
  });

  it('a DENY ACL is named over a matching ALLOW', () => {
    const deny: AclBinding = { ...allow('User:*', ResourceType.TOPIC, 'orders', AclOperation.READ), permission: AclPermission.DENY };
    const { authorizer, lines } = audited('info', { acls: [allow('User:alice', ResourceType.TOPIC, 'orders', AclOperation.READ), deny] });
    assert.equal(authorizer.allows('User:alice', 'h', AclOperation.READ, ResourceType.TOPIC, 'orders'), false);
    assert.match(lines[0]!.rule, /^MatchingAcl\(principal=User:\*, host=\*, operation=READ, permissionType=DENY, /);
  });

  it('filtering callers log denials at trace only, probes log everything at trace only', () => {
    const { authorizer, lines } = audited('debug');
    assert.equal(authorizer.allows('User:bob', 'h', AclOperation.DESCRIBE, ResourceType.TOPIC, 'orders', DENIAL_UNAUDITED), false);
    assert.equal(authorizer.allows('User:alice', 'h', AclOperation.READ, ResourceType.TOPIC, 'orders', UNAUDITED), true);
    assert.equal(authorizer.allows('User:bob', 'h', AclOperation.READ, ResourceType.TOPIC, 'orders', UNAUDITED), false);
    assert.deepEqual(lines, [], 'nothing above trace');
    const traced = audited('trace');
    traced.authorizer.allows('User:bob', 'h', AclOperation.DESCRIBE, ResourceType.TOPIC, 'orders', DENIAL_UNAUDITED);
    traced.authorizer.allows('User:bob', 'h', AclOperation.DESCRIBE, ResourceType.TOPIC, 'orders', AUDITED);
    assert.deepEqual(traced.lines.map((l) => l.level), [TRACE, INFO]);
  });

  it('nothing is built or written when the level is off', () => {
    // A logger that says every level is off and fails if asked to write anyway.
    const asked: string[] = [];
    const refuse = () => assert.fail('a line was written at a disabled level');
    const off = { isLevelEnabled: (level: string) => (asked.push(level), false), trace: refuse, debug: refuse, info: refuse } as unknown as Logger;
    const authorizer = new Authorizer(() => imageWith([]), { superUsers: new Set(), allowEveryoneIfNoAclFound: false }, off);
    assert.equal(authorizer.allows('User:bob', 'h', AclOperation.READ, ResourceType.TOPIC, 'orders'), false);
    assert.equal(authorizer.allows('User:bob', 'h', AclOperation.READ, ResourceType.TOPIC, 'orders', UNAUDITED), false);
    assert.deepEqual(asked, ['info', 'trace']);
  });
});
