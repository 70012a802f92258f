import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProperties } from './properties.js';

describe('parseProperties (java.util.Properties rules)', () => {
  it('separators, comments, blanks', () => {
    const p = parseProperties('# comment\n  ! also\nnode.id=3\nlisteners : PLAINTEXT://:9092\nlog.dirs /a\n\nempty=\nbare\n  spaced.key   =   v  \r\nwin=1\r\n');
    assert.deepEqual([...p], [
      ['node.id', '3'],
      ['listeners', 'PLAINTEXT://:9092'],
      ['log.dirs', '/a'],
      ['empty', ''],
      ['bare', ''],
      ['spaced.key', 'v'],
      ['win', '1'],
    ]);
  });

  it('continuation lines: an odd number of trailing backslashes continues, leading blanks of the next line go', () => {
    const p = parseProperties('log.dirs=/a,\\\n    /b,\\\n\t/c\npath=C:\\\\\nnext=1\nlast=x\\');
    assert.equal(p.get('log.dirs'), '/a,/b,/c');
    assert.equal(p.get('path'), 'C:\\', 'an even count is an escaped backslash, not a continuation');
    assert.equal(p.get('next'), '1');
    assert.equal(p.get('last'), 'x', 'a continuation at the end of the text ends the value');
  });

  it('escapes in keys and values', () => {
    const p = parseProperties('a\\=b=c\\:d\nkey\\ with\\ spaces = v\\tw\nunicode=caf\\u00e9\nother=\\q\\#\nsasl.jaas.config=org.Mod required username="u" password="p\\"q";');
    assert.equal(p.get('a=b'), 'c:d');
    assert.equal(p.get('key with spaces'), 'v\tw');
    assert.equal(p.get('unicode'), 'café');
    assert.equal(p.get('other'), 'q#');
    assert.equal(p.get('sasl.jaas.config'), 'org.Mod required username="u" password="p"q";');
  });

  it('a later key wins; = and : inside a value are kept', () => {
    const p = parseProperties('k=1\nk=2\nurl=http://h:1/a=b');
    assert.equal(p.get('k'), '2');
    assert.equal(p.get('url'), 'http://h:1/a=b');
  });
});
