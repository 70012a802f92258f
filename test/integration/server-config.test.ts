// `tributary server` as a process: unknown and invalid settings stop start-up with a message
// naming the key and a non-zero exit code; SIGTERM shuts down cleanly with exit code 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BrokerProcess, freePort, tempDir, tributaryBin } from '../helpers/broker-process.js';
import { kcat, run } from '../helpers/clients.js';
import { assertOk } from './support.js';

describe('tributary server configuration', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function server(args: string[]): Promise<{ code: number | null; stderr: string }> {
    const dir = tempDir();
    dirs.push(dir);
    const port = await freePort();
    const r = await run(process.execPath, [tributaryBin, 'server', '--override', `log.dirs=${dir}`, '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`, ...args], { timeoutMs: 20_000 });
    return { code: r.code, stderr: r.stderr + r.stdout };
  }

  it('refuses an unknown key, naming it', async () => {
    const r = await server(['--override', 'log.retention.hourz=5']);
    assert.notEqual(r.code, 0);
    assert.notEqual(r.code, null, 'the server kept running');
    assert.match(r.stderr, /log\.retention\.hourz/);
  });

  it('refuses an invalid value, naming the key', async () => {
    const r = await server(['--override', 'num.partitions=abc']);
    assert.notEqual(r.code, 0);
    assert.notEqual(r.code, null, 'the server kept running');
    assert.match(r.stderr, /num\.partitions/);
    const negative = await server(['--override', 'socket.request.max.bytes=-1']);
    assert.notEqual(negative.code, 0);
    assert.match(negative.stderr, /socket\.request\.max\.bytes/);
  });

  it('refuses an unknown key in a server.properties file, naming it', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, 'server.properties');
    writeFileSync(file, `# test\nprocess.roles=broker,controller\nnode.id=1\nnot.a.kafka.setting=1\n`);
    const r = await server([file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not\.a\.kafka\.setting/);
  });

  /** Asserts the server refused to start with exactly one line on stderr/stdout matching `pattern`. */
  function assertRefusedWithOneLine(r: { code: number | null; stderr: string }, pattern: RegExp): void {
    assert.notEqual(r.code, null, 'the server kept running');
    assert.notEqual(r.code, 0);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
    assert.match(lines[0]!, pattern);
  }

  it('refuses a SASL listener without PLAIN and its users, and an SSL listener without a key store, naming the key', async () => {
    for (const protocol of ['SASL_PLAINTEXT', 'SASL_SSL']) {
      const port = await freePort();
      const r = await server(['--override', `listeners=${protocol}://127.0.0.1:${port}`, '--override', `advertised.listeners=${protocol}://127.0.0.1:${port}`]);
      assertRefusedWithOneLine(r, new RegExp(`'sasl\\.enabled\\.mechanisms' \\(SASL listener ${protocol}\\): Tributary supports PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 so far`));
    }
    const port = await freePort();
    const mapped = await server(['--override', `listeners=PLAINTEXT://127.0.0.1:${await freePort()},CLIENT://127.0.0.1:${port}`, '--override', 'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CLIENT:SASL_PLAINTEXT', '--override', 'sasl.enabled.mechanisms=PLAIN']);
    assertRefusedWithOneLine(mapped, /SASL listener CLIENT with PLAIN needs 'listener\.name\.client\.plain\.sasl\.jaas\.config'/);
    const ssl = await server(['--override', `listeners=PLAINTEXT://127.0.0.1:${await freePort()},CLIENT://127.0.0.1:${port}`, '--override', 'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CLIENT:SSL']);
    assertRefusedWithOneLine(ssl, /'ssl\.keystore\.location' for SSL listener CLIENT: an SSL listener needs a key store/);
  });

  it('refuses a listener missing from listener.security.protocol.map, naming it', async () => {
    const r = await server(['--override', `listeners=CLIENT://127.0.0.1:${await freePort()}`]);
    assertRefusedWithOneLine(r, /'listeners': No security protocol defined for listener CLIENT\b/);
  });

  it('refuses SASL and TLS settings it does not implement, also per listener, naming the key', async () => {
    for (const key of ['sasl.jaas.config', 'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config', 'ssl.engine.factory.class', 'listener.name.ssl.ssl.engine.factory.class']) {
      const r = await server(['--override', `${key}=/etc/kafka/x`]);
      assertRefusedWithOneLine(r, new RegExp(`Unknown configuration '${key.replace(/\./g, '\\.')}'`));
    }
    const bad = await server(['--override', 'listener.name.ssl.ssl.client.auth=always']);
    assertRefusedWithOneLine(bad, /Invalid value 'always' for configuration 'listener\.name\.ssl\.ssl\.client\.auth': must be one of required, requested, none/);
  });

  it('a port in use stops start-up with one line naming the listener, before the data directory is touched', async () => {
    const holder = createServer();
    const port = await new Promise<number>((resolve) => holder.listen(0, '127.0.0.1', () => resolve((holder.address() as AddressInfo).port)));
    try {
      const dir = tempDir();
      dirs.push(dir);
      const dataDir = join(dir, 'data');
      const r = await run(process.execPath, [tributaryBin, 'server', '--override', `log.dirs=${dataDir}`, '--override', `listeners=CLIENT://127.0.0.1:${port}`, '--override', 'listener.security.protocol.map=CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT'], { timeoutMs: 20_000 });
      const out = { code: r.code, stderr: r.stderr + r.stdout };
      assertRefusedWithOneLine(out, new RegExp(`listener CLIENT to 127\\.0\\.0\\.1:${port}: address already in use`));
      assert.equal(existsSync(dataDir), false, 'start-up created the data directory before binding');
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('serves a listener of any name mapped to PLAINTEXT', async () => {
    const port = await freePort();
    const broker = new BrokerProcess({
      port,
      overrides: { listeners: `CLIENT://127.0.0.1:${port}`, 'advertised.listeners': `CLIENT://127.0.0.1:${port}`, 'listener.security.protocol.map': 'CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT' },
    });
    try {
      await broker.start();
      const p = await kcat(['-P', '-b', broker.bootstrap, '-t', 'cfg-client-listener', '-p', '0'], { input: 'one\n' });
      assertOk(p, 'kcat -P');
      const c = await kcat(['-C', '-b', broker.bootstrap, '-t', 'cfg-client-listener', '-p', '0', '-o', 'beginning', '-e', '-q']);
      assertOk(c, 'kcat -C');
      assert.equal(c.stdout.trim(), 'one');
    } finally {
      await broker.destroy();
    }
  });

  it('server --help prints the usage; TRIBUTARY_LOG_FORMAT=text logs one human-readable line per event', async () => {
    const help = await run(process.execPath, [tributaryBin, 'server', '--help'], { timeoutMs: 20_000 });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: tributary server \[server.properties\] \[--override key=value \.\.\.\]/);
    const dir = tempDir();
    dirs.push(dir);
    const port = await freePort();
    const child = spawn(process.execPath, [tributaryBin, 'server', '--override', `log.dirs=${dir}`, '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`, '--override', `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TRIBUTARY_LOG_FORMAT: 'text', TRIBUTARY_LOG_LEVEL: 'info' },
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start line:\n${stderr}`)), 20_000);
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('[server] started')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(stderr, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: \[server\] started \{"nodeId":1,/m);
    assert.match(stderr, /INFO: \[server\] stopped$/m);
    assert.doesNotMatch(stderr, /^\{/m, 'no JSON lines');
  });

  it('exits 0 on SIGTERM after serving, and keeps the data for the next start', async () => {
    const broker = new BrokerProcess();
    try {
      await broker.start();
      const p = await kcat(['-P', '-b', broker.bootstrap, '-t', 'cfg-sigterm', '-p', '0'], { input: 'one\ntwo\n' });
      assertOk(p, 'kcat -P');
      assert.equal(await broker.stop(), 0);
      assert.match(broker.logs, /"msg":"stopped"/);
      await broker.start();
      const c = await kcat(['-C', '-b', broker.bootstrap, '-t', 'cfg-sigterm', '-p', '0', '-o', 'beginning', '-e', '-q']);
      assertOk(c, 'kcat -C');
      assert.deepEqual(c.stdout.trim().split('\n'), ['one', 'two']);
      assert.equal(await broker.stop(), 0);
    } finally {
      await broker.destroy();
    }
  });
});
