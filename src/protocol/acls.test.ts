import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AclOperation as Op, AclPermission, PatternType, ResourceType, aclBindingProblem, aclFilterMatches, authorize, type AclBinding } from './acls.js';

const acl = (over: Partial<AclBinding>): AclBinding => ({ resourceType: ResourceType.TOPIC, resourceName: 'orders', patternType: PatternType.LITERAL, principal: 'User:alice', host: '*', operation: Op.READ, permission: AclPermission.ALLOW, ...over });
const settings = { superUsers: new Set(['User:admin']), allowEveryoneIfNoAclFound: false };
const can = (acls: AclBinding[], principal: string, op: number, name = 'orders', host = '10.0.0.1', s = settings) => authorize(acls, s, principal, host, op, ResourceType.TOPIC, name);

describe('ACL authorization (StandardAuthorizer semantics)', () => {
  it('allows what an ALLOW names, for its principal, host and pattern', () => {
    const acls = [acl({}), acl({ resourceName: 'pay-', patternType: PatternType.PREFIXED, operation: Op.WRITE }), acl({ principal: 'User:bob', host: '10.0.0.9', operation: Op.WRITE })];
    assert.equal(can(acls, 'User:alice', Op.READ), true);
    assert.equal(can(acls, 'User:alice', Op.WRITE), false, 'READ is not WRITE');
    assert.equal(can(acls, 'User:carol', Op.READ), false, 'another principal');
    assert.equal(can(acls, 'User:alice', Op.WRITE, 'pay-eu'), true, 'prefixed pattern');
    assert.equal(can(acls, 'User:alice', Op.WRITE, 'pa'), false, 'a shorter name does not match the prefix');
    assert.equal(can(acls, 'User:alice', Op.READ, 'orders2'), false, 'a literal pattern is the whole name');
    assert.equal(can(acls, 'User:bob', Op.WRITE, 'orders', '10.0.0.9'), true);
    assert.equal(can(acls, 'User:bob', Op.WRITE, 'orders', '10.0.0.8'), false, 'another host');
  });

  it('DENY wins; implied DESCRIBE and DESCRIBE_CONFIGS come from ALLOW only; ALL covers everything', () => {
    assert.equal(can([acl({ operation: Op.ALL }), acl({ permission: AclPermission.DENY, operation: Op.WRITE })], 'User:alice', Op.WRITE), false);
    assert.equal(can([acl({ operation: Op.ALL }), acl({ permission: AclPermission.DENY, operation: Op.WRITE })], 'User:alice', Op.READ), true);
    assert.equal(can([acl({ operation: Op.WRITE })], 'User:alice', Op.DESCRIBE), true, 'WRITE implies DESCRIBE');
    assert.equal(can([acl({ operation: Op.CREATE })], 'User:alice', Op.DESCRIBE), false, 'CREATE does not');
    assert.equal(can([acl({ operation: Op.ALTER_CONFIGS })], 'User:alice', Op.DESCRIBE_CONFIGS), true);
    assert.equal(can([acl({ operation: Op.READ }), acl({ operation: Op.READ, permission: AclPermission.DENY })], 'User:alice', Op.DESCRIBE), true, 'a DENY of READ does not deny DESCRIBE');
    assert.equal(can([acl({ operation: Op.ALL, permission: AclPermission.DENY }), acl({ operation: Op.DESCRIBE })], 'User:alice', Op.DESCRIBE), false, 'DENY ALL denies DESCRIBE');
  });

  it('wildcards: resource *, principal User:*, host *; super users; allow.everyone.if.no.acl.found only for resources without ACLs', () => {
    assert.equal(can([acl({ resourceName: '*' })], 'User:alice', Op.READ, 'anything'), true);
    assert.equal(can([acl({ principal: 'User:*' })], 'User:zoe', Op.READ), true);
    assert.equal(can([], 'User:admin', Op.DELETE), true, 'super user');
    const open = { ...settings, allowEveryoneIfNoAclFound: true };
    assert.equal(can([], 'User:zoe', Op.READ, 'orders', '1.1.1.1', open), true, 'no ACL on the resource');
    assert.equal(can([acl({})], 'User:zoe', Op.READ, 'orders', '1.1.1.1', open), false, 'the resource has ACLs, none for zoe');
    assert.equal(can([], 'User:zoe', Op.READ), false, 'default: denied');
  });

  it('filters match as Kafka: ANY, MATCH (what applies to a name), exact pattern types', () => {
    const lit = acl({});
    const pre = acl({ resourceName: 'ord', patternType: PatternType.PREFIXED });
    const star = acl({ resourceName: '*' });
    const filter = (over: object) => ({ resourceType: ResourceType.ANY, resourceName: null, patternType: PatternType.ANY, principal: null, host: null, operation: Op.ANY, permission: AclPermission.ANY, ...over });
    const match = filter({ resourceType: ResourceType.TOPIC, resourceName: 'orders', patternType: PatternType.MATCH });
    assert.deepEqual([lit, pre, star].map((b) => aclFilterMatches(match, b)), [true, true, true]);
    assert.deepEqual([lit, pre, star].map((b) => aclFilterMatches(filter({ resourceName: 'orders', patternType: PatternType.LITERAL }), b)), [true, false, false]);
    assert.deepEqual([lit, pre, star].map((b) => aclFilterMatches(filter({ resourceName: 'ord' }), b)), [false, true, false], 'ANY: the name exactly, any pattern type');
    assert.equal(aclFilterMatches(filter({ principal: 'User:bob' }), lit), false);
    assert.equal(aclFilterMatches(filter({ resourceType: ResourceType.GROUP }), lit), false);
  });

  it('refuses bindings Kafka refuses, with its messages', () => {
    assert.equal(aclBindingProblem(acl({})), null);
    assert.equal(aclBindingProblem(acl({ patternType: PatternType.MATCH })), 'Invalid patternType MATCH');
    assert.equal(aclBindingProblem(acl({ operation: Op.ANY })), 'Invalid operation ANY');
    assert.equal(aclBindingProblem(acl({ permission: AclPermission.ANY })), 'Invalid permissionType ANY');
    assert.equal(aclBindingProblem(acl({ resourceType: ResourceType.ANY })), 'Invalid resourceType ANY');
    assert.equal(aclBindingProblem(acl({ resourceType: ResourceType.CLUSTER, resourceName: 'x' })), 'The only valid name for the CLUSTER resource is kafka-cluster');
    assert.match(aclBindingProblem(acl({ principal: 'alice' }))!, /Could not parse principal/);
  });
});
