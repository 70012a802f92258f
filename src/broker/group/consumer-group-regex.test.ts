import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TopicRegexMatcher, compileTopicRegex } from './consumer-group-regex.js';

function matches(pattern: string, name: string): boolean {
  const c = compileTopicRegex(pattern);
  assert.ok(c.ok, `${pattern} should compile`);
  return c.regex.test(name);
}

describe('SubscribedTopicRegex', () => {
  it('matches whole topic names, as Pattern.matches does', () => {
    assert.equal(matches('prefix-.*', 'prefix-a'), true);
    assert.equal(matches('prefix-.*', 'xprefix-a'), false);
    assert.equal(matches('^prefix-.*', 'prefix-a'), true);
    assert.equal(matches('orders|payments', 'orders'), true);
    assert.equal(matches('orders|payments', 'orders-x'), false);
    assert.equal(matches('t-[0-9]+', 't-12'), true);
    assert.equal(matches('t', 'tt'), false);
  });

  it('takes the RE2 spellings JavaScript lacks', () => {
    assert.equal(matches('(?i)ORDERS', 'orders'), true);
    assert.equal(matches('(?i)[a-c]X-\\d+', 'Bx-12'), true);
    assert.equal(matches('(?i)[a-c]X', 'dx'), false);
    assert.equal(matches('(?i)(?P<Kind>a)b', 'AB'), true);
    assert.equal(matches('ORDERS', 'orders'), false);
    assert.equal(matches('(?P<kind>a|b)-.*', 'a-1'), true);
    assert.equal(matches('\\Aa.*\\z', 'abc'), true);
  });

  it('runs in linear time: a pattern that backtracks exponentially in JavaScript is instant', () => {
    // With a backtracking engine this takes longer than the test suite's timeout.
    assert.equal(matches('(a+)+b', 'a'.repeat(249)), false);
    assert.equal(matches('(a|aa)*c', 'a'.repeat(249)), false);
  });

  it('refuses what RE2 refuses, with Kafka\'s message', () => {
    for (const p of ['(', '[a-', '(a)\\1', '(?<n>a)\\k<n>', 'a(?=b)', 'a(?!b)', 'a(?<=b)', 'a(?<!b)', '*a', '\\p{L}+']) {
      const c = compileTopicRegex(p);
      assert.equal(c.ok, false, p);
      if (!c.ok) assert.ok(c.message.startsWith(`SubscribedTopicRegex \`${p}\` is not a valid regular expression: `), c.message);
    }
    assert.equal(compileTopicRegex('a'.repeat(20_000)).ok, false);
    // The same characters escaped, or inside a class, are plain characters.
    assert.equal(matches('a[(?=]', 'a('), true);
    assert.equal(matches('\\(\\?=x\\\\1', '(?=x\\1'), true);
  });

  it('remembers results per pattern and name', () => {
    const m = new TopicRegexMatcher();
    assert.equal(m.matchesTopic('a.*', 'abc'), true);
    assert.equal(m.matchesTopic('a.*', 'bc'), false);
    assert.equal(m.matchesTopic('(', 'abc'), false);
    assert.equal(m.regex('('), null);
  });
});
