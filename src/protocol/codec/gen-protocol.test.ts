// The generator on a small fixture spec: comments stripped outside strings, deterministic output,
// common structs, defaults, and the --check mode CI runs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateAll, stripJsonComments, HEADER } from '../../../scripts/gen-protocol.js';

const SCRIPT = fileURLToPath(new URL('../../../scripts/gen-protocol.js', import.meta.url));

const FIXTURE_REQUEST = `// Licence header
{
  "apiKey": 77, "type": "request", "name": "WidgetRequest", // trailing comment
  "validVersions": "0-2", "flexibleVersions": "2+",
  "fields": [
    { "name": "Url", "type": "string", "versions": "0+", "default": "http://example.com/a//b",
      "about": "A default with // inside a string, and an escaped \\" quote // too." },
    { "name": "Limit", "type": "int32", "versions": "1+", "default": "0x7fffffff", "ignorable": true },
    { "name": "Epoch", "type": "int64", "versions": "0+", "default": "-1" },
    { "name": "Owner", "type": "Party", "versions": "0+" },
    { "name": "Parties", "type": "[]Party", "versions": "0+" },
    { "name": "Note", "type": "string", "versions": "2+", "nullableVersions": "2+", "default": "null",
      "taggedVersions": "2+", "tag": 0 }
  ],
  "commonStructs": [
    { "name": "Party", "versions": "0+", "fields": [
      { "name": "PartyId", "type": "uuid", "versions": "0+" } ] }
  ]
}`;

const FIXTURE_RESPONSE = `{ "apiKey": 77, "type": "response", "name": "WidgetResponse",
  "validVersions": "0-2", "flexibleVersions": "2+",
  "fields": [ { "name": "ErrorCode", "type": "int16", "versions": "0+" } ] }`;

function fixtureDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'gen-protocol-'));
  const specs = join(root, 'messages');
  mkdirSync(specs);
  writeFileSync(join(specs, 'WidgetRequest.json'), FIXTURE_REQUEST);
  writeFileSync(join(specs, 'WidgetResponse.json'), FIXTURE_RESPONSE);
  return root;
}

test('comments are stripped outside strings only', () => {
  const text = '{ "a": "x // y", "b": "q\\" // r" } // gone\n/* block */ // also gone';
  assert.deepEqual(JSON.parse(stripJsonComments(text)), { a: 'x // y', b: 'q" // r' });
});

test('generated files: camelCase names, prefixed struct interfaces, normalised defaults, no about prose', () => {
  const root = fixtureDir();
  try {
    const files = generateAll([join(root, 'messages')]);
    assert.deepEqual([...files.keys()].sort(), ['WidgetRequest.ts', 'WidgetResponse.ts', 'index.ts']);
    const req = files.get('WidgetRequest.ts')!;
    assert.ok(req.startsWith(`${HEADER}\n`));
    assert.match(req, /export interface WidgetRequestData \{/);
    assert.match(req, /  owner: WidgetRequestParty;/);
    assert.match(req, /  parties: WidgetRequestParty\[\];/);
    assert.match(req, /  epoch: bigint;/);
    assert.match(req, /  note: string \| null;/);
    assert.match(req, /default: 'http:\/\/example.com\/a\/\/b'/);
    assert.match(req, /default: 2147483647/);
    assert.match(req, /default: -1n/);
    assert.match(req, /taggedVersions: '2\+', tag: 0, default: null/);
    assert.match(req, /fields: WidgetRequestPartyFields/);
    assert.match(req, /export const WidgetRequest = defineMessage<WidgetRequestData, WidgetRequestStructs>\(WidgetRequestSchema\);/);
    assert.doesNotMatch(req, /escaped|A default with/);
    const index = files.get('index.ts')!;
    assert.match(index, /name: 'Widget',\n    apiKey: 77,\n    request: WidgetRequest,\n    response: WidgetResponse,\n    minVersion: 0,\n    maxVersion: 2,/);
    // Deterministic: the same input gives the same bytes.
    assert.deepEqual(generateAll([join(root, 'messages')]), files);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--check passes on fresh output and fails once a generated file differs', () => {
  const root = fixtureDir();
  try {
    const out = join(root, 'out');
    const run = (...args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });
    assert.equal(run('--out', out, join(root, 'messages')).status, 0);
    assert.equal(run('--check', '--out', out, join(root, 'messages')).status, 0);
    const file = join(out, 'WidgetRequest.ts');
    writeFileSync(file, readFileSync(file, 'utf8') + '// hand edit\n');
    const stale = run('--check', '--out', out, join(root, 'messages'));
    assert.equal(stale.status, 1);
    assert.match(stale.stderr, /stale: .*WidgetRequest\.ts/);
    // Regenerating repairs it.
    assert.equal(run('--out', out, join(root, 'messages')).status, 0);
    assert.equal(run('--check', '--out', out, join(root, 'messages')).status, 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('without spec folders it checks the vendored protocol-specs/, and the committed codecs are up to date', () => {
  // What CI runs: a plain clone has everything the check needs.
  const r = spawnSync(process.execPath, [SCRIPT, '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /generated files are up to date/);
});

test('a missing or unreadable spec folder, or a broken spec, is one error line, not a stack trace', () => {
  const root = fixtureDir();
  try {
    const run = (...args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });
    const missing = run('--check', '--out', join(root, 'out'), join(root, 'nope'));
    assert.equal(missing.status, 2);
    assert.equal(missing.stderr, `gen-protocol: spec folder ${join(root, 'nope')} does not exist\n`);
    const notDir = run('--out', join(root, 'out'), join(root, 'messages', 'WidgetRequest.json'));
    assert.equal(notDir.status, 2);
    assert.match(notDir.stderr, /^gen-protocol: spec folder .*WidgetRequest\.json is not a directory\n$/);
    writeFileSync(join(root, 'messages', 'WidgetResponse.json'), '{ "name": ');
    const broken = run('--out', join(root, 'out'), join(root, 'messages'));
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, /^gen-protocol: .*WidgetResponse\.json: .*\n$/);
    assert.doesNotMatch(broken.stderr, /\n\s+at /);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
