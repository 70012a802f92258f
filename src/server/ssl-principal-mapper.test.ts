import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SslPrincipalMappingError, parseSslPrincipalMappingRules, sslPrincipalMappingRulesProblem } from './ssl-principal-mapper.js';

test('Kafka\'s documented example rules map its example names; DEFAULT passes the name unchanged', () => {
  const m = parseSslPrincipalMappingRules('RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,\nRULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,\nRULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L,\nDEFAULT');
  const table: [string, string][] = [
    ['CN=serviceuser,OU=ServiceUsers,O=Unknown,L=Unknown,ST=Unknown,C=Unknown', 'serviceuser'],
    ['CN=adminUser,OU=Admin,O=Unknown,L=Unknown,ST=Unknown,C=Unknown', 'adminuser@admin'],
    ['O=Acme,cn=Some.Body', 'some.body'],
    ['OU=JavaSoft,O=Sun Microsystems,C=US', 'OU=JavaSoft,O=Sun Microsystems,C=US'],
  ];
  for (const [dn, expected] of table) assert.equal(m.map(dn), expected, dn);
});

test('first match wins; /L and /U fold case; spaces around rules and empty entries are ignored', () => {
  const m = parseSslPrincipalMappingRules(' , RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L , RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,,RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U,RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U,DEFAULT, ');
  assert.equal(m.map('CN=Duke,OU=ServiceUsers,O=Org,C=US'), 'duke');
  assert.equal(m.map('CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US'), 'duke@sme');
  assert.equal(m.map('cn=duke,ou=sme,dc=mycp,dc=com'), 'DUKE@SME');
  assert.equal(m.map('cN=duke,OU=JavaSoft,O=Sun Microsystems'), 'DUKE');
  assert.equal(m.map('OU=JavaSoft,O=Sun Microsystems,C=US'), 'OU=JavaSoft,O=Sun Microsystems,C=US');
  assert.equal(m.rules.length, 5);
});

test('no matching rule: null (authentication fails), as Kafka\'s NoMatchingRule; an empty value has no rules', () => {
  const m = parseSslPrincipalMappingRules('RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/');
  assert.equal(m.map('CN=alice,OU=eng'), null);
  assert.equal(parseSslPrincipalMappingRules('').map('CN=alice'), null);
  assert.deepEqual(parseSslPrincipalMappingRules(',  , ,').rules, []);
  // The pattern must match the whole name, not a part of it.
  assert.equal(parseSslPrincipalMappingRules('RULE:CN=([a-z]+)/$1/').map('CN=alice,O=Acme'), null);
});

test('escaped commas in names and escaped slashes in rules (Kafka\'s comma-in-DN example)', () => {
  const m = parseSslPrincipalMappingRules('RULE:^CN=((\\\\, *|\\w)+)(,.*|$)/$1/,DEFAULT');
  assert.equal(m.map('CN=Tkac\\, Adam,OU=ITZ,DC=geodis,DC=cz'), 'Tkac\\, Adam');
  const slash = parseSslPrincipalMappingRules('RULE:^CN=([^,]+),O=a\\/b$/team\\/$1/');
  assert.equal(slash.map('CN=bob,O=a/b'), 'team/bob');
});

test('rules splitting follows Kafka: commas inside patterns and replacements belong to the rule', () => {
  const table: [string, string[]][] = [
    ['DEFAULT', ['DEFAULT']],
    ['RULE://', ['RULE://']],
    ['RULE:/.*/L', ['RULE:/.*/L']],
    ['  RULE:// ,  DEFAULT  ', ['RULE://', 'DEFAULT']],
    ['  RULE:   /     / ,  DEFAULT  ', ['RULE:   /     /', 'DEFAULT']],
    ['  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  ', ['RULE:([A-Z]*)/$1/U', 'RULE:([a-z]+)/$1/', 'DEFAULT']],
    [',,RULE://,,,DEFAULT,,', ['RULE://', 'DEFAULT']],
    ['RULE:\\/\\\\\\(\\)\\n\\t/\\/\\//', ['RULE:\\/\\\\\\(\\)\\n\\t/\\/\\//']],
    ['RULE:,RULE:,/,RULE:,\\//U,RULE:,/RULE:,/,RULE:,RULE:,/L,RULE:,/L,RULE:, DEFAULT, /DEFAULT/,DEFAULT',
      ['RULE:,RULE:,/,RULE:,\\//U', 'RULE:,/RULE:,/', 'RULE:,RULE:,/L,RULE:,/L', 'RULE:, DEFAULT, /DEFAULT/', 'DEFAULT']],
  ];
  for (const [value, rules] of table) assert.deepEqual(parseSslPrincipalMappingRules(value).rules, rules, value);
  // The rule whose pattern holds commas still applies as one rule.
  assert.equal(parseSslPrincipalMappingRules('RULE:,RULE:,/,RULE:,\\//U').map(',RULE:,'), ',RULE:,/'.toUpperCase());
});

test('replacements as Java\'s replaceAll: $0, multi-digit groups, \\$ literal, a group beyond the pattern\'s is literal text', () => {
  assert.equal(parseSslPrincipalMappingRules('RULE:^CN=(\\w+)$/[$0]/').map('CN=bob'), '[CN=bob]');
  assert.equal(parseSslPrincipalMappingRules('RULE:^CN=(\\w+)$/\\$$1/').map('CN=bob'), '$bob');
  assert.equal(parseSslPrincipalMappingRules('RULE:^CN=(\\w+),O=(\\w+)$/$1@$3/').map('CN=bob,O=acme'), 'bob@$3');
  assert.equal(parseSslPrincipalMappingRules('RULE:^CN=(\\w+)$/$12/').map('CN=bob'), 'bob2');
  const twelve = '(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)';
  assert.equal(parseSslPrincipalMappingRules(`RULE:^${twelve}$/$12-$123/`).map('abcdefghijkl'), 'l-l3');
  assert.equal(parseSslPrincipalMappingRules('RULE:^CN=(?<user>\\w+)$/${user}/U').map('CN=bob'), 'BOB');
  assert.equal(parseSslPrincipalMappingRules('RULE:^CN=(\\w+)(,O=(\\w+))?$/$1:$3/').map('CN=bob'), 'bob:');
});

test('invalid rules are refused with a message naming the rule (Kafka\'s invalid examples and more)', () => {
  const invalid = [
    'default', 'DEFAUL', 'DEFAULT/L', 'DEFAULT/U', 'DEFAULT DEFAULT',
    'RULE:CN=(.*?),OU=ServiceUsers.*/$1',
    'rule:^CN=(.*?),OU=ServiceUsers.*$/$1/',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/L',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/U',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/LU',
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/l',
    'RULE:^CN=(.*?$/$1/', // not a regular expression
    'RULE:^CN=.*$/$1/', // a group the pattern has none of
    'RULE:^CN=(.*)$/$x/', // '$' with no group
    'RULE:^CN=(.*)$/${nope}/',
    'DEFAULT,RULE:^x$/y',
  ];
  for (const value of invalid) {
    assert.throws(() => parseSslPrincipalMappingRules(value), SslPrincipalMappingError, value);
    assert.match(sslPrincipalMappingRulesProblem(value) ?? '', /^Invalid rule: '/, value);
  }
  assert.equal(sslPrincipalMappingRulesProblem('RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,DEFAULT'), null);
});
