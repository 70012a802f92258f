// The published package as a user gets it: `npm pack` (package.json `files`), installed into an
// empty project from the tarball (its dependencies from the npm registry), then the installed
// `tributary` command starts a broker that kcat produces to and consumes from. This is also the
// Dockerfile's install step.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, tempDir } from '../helpers/broker-process.js';
import { kcat, run } from '../helpers/clients.js';

const projectRoot = fileURLToPath(new URL('../../..', import.meta.url));
const npm = 'npm';

describe('npm package', () => {
  const dir = tempDir('tributary-pack-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('packs only what users need, installs from the tarball, and its tributary command serves kcat', async () => {
    // --ignore-scripts: dist/ is already built (npm test builds first); no rebuild under other tests.
    const packed = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { timeoutMs: 120_000, cwd: projectRoot });
    assert.equal(packed.code, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const paths = info!.files.map((f) => f.path);
    assert.ok(paths.includes('bin/tributary.js') && paths.includes('dist/src/cli/main.js') && paths.includes('config/server.properties') && paths.includes('LICENSE'));
    const unwanted = paths.filter((p) => /^(src|test|bench|scripts)\//.test(p) || /\.test\.|\.map$|^dist\/(test|bench|scripts)\//.test(p));
    assert.deepEqual(unwanted, [], 'no sources, tests, benchmarks or source maps');

    const app = join(dir, 'app');
    const installed = await run(npm, ['install', '--no-audit', '--no-fund', '--prefix', app, join(dir, info!.filename)], { timeoutMs: 300_000 });
    assert.equal(installed.code, 0, installed.stderr);
    const bin = join(app, 'node_modules', '.bin', 'tributary');
    assert.ok(readdirSync(join(app, 'node_modules', '.bin')).includes('tributary'));

    const port = await freePort();
    const child = spawn(bin, ['server', '--override', `log.dirs=${join(dir, 'data')}`, '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`, '--override', `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TRIBUTARY_LOG_FORMAT: 'json' },
    });
    try {
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the installed server did not start:\n${output}`)), 30_000);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('"msg":"started"')) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', (code) => reject(new Error(`the installed server exited (${code}):\n${output}`)));
      });
      const bs = `127.0.0.1:${port}`;
      assert.equal((await kcat(['-P', '-b', bs, '-t', 'packaged', '-p', '0'], { input: 'a\nb\n' })).code, 0);
      const consumed = await kcat(['-C', '-b', bs, '-t', 'packaged', '-p', '0', '-o', 'beginning', '-e', '-q']);
      assert.equal(consumed.stdout, 'a\nb\n');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
