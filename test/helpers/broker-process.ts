// Starts real broker processes (`bin/tributary.js server`) on free loopback ports for
// integration tests, and stops or kills them.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const tributaryBin = join(projectRoot, 'bin', 'tributary.js');

/** A port that was free a moment ago (the OS picks it; we release it for the broker). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export function tempDir(prefix = 'tributary-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Bound on a start-up: generous, as recovery of thousands of partitions after kill -9 on a loaded
 * 2-core machine has taken over 20 s. */
const START_TIMEOUT_MS = 60_000;

export interface BrokerProcessOptions {
  dataDir?: string;
  port?: number;
  overrides?: Record<string, string>;
}

export class BrokerProcess {
  private child: ChildProcess | null = null;
  private output = '';
  readonly dataDir: string;
  private ownsDataDir: boolean;
  port = 0;

  constructor(private readonly opts: BrokerProcessOptions = {}) {
    this.ownsDataDir = opts.dataDir === undefined;
    this.dataDir = opts.dataDir ?? tempDir();
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The running broker's process id, or null when it is not running. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** True while the broker process has not exited. */
  get running(): boolean {
    const child = this.child;
    return child !== null && child.exitCode === null && child.signalCode === null;
  }

  /** Everything the broker wrote to stdout and stderr so far (for assertion messages). */
  get logs(): string {
    return this.output;
  }

  async start(): Promise<this> {
    const outcome = await this.startOrExit();
    if (!outcome.started) throw new Error(`broker exited during start-up (code ${outcome.code}, signal ${outcome.signal}):\n${this.output}`);
    return this;
  }

  /**
   * Starts the broker and resolves once it has started, or once it has exited during start-up
   * (for tests of start-up refusals: the exit code and this run's output).
   */
  async startOrExit(): Promise<{ started: true } | { started: false; code: number | null; signal: string | null; output: string }> {
    if (this.port === 0) this.port = this.opts.port ?? (await freePort());
    const overrides: Record<string, string> = {
      listeners: `PLAINTEXT://127.0.0.1:${this.port}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${this.port}`,
      'log.dirs': this.dataDir,
      ...this.opts.overrides,
    };
    const args = [tributaryBin, 'server'];
    for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`);
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TRIBUTARY_LOG_LEVEL: process.env['TRIBUTARY_LOG_LEVEL'] ?? 'info' },
    });
    this.child = child;
    // Output accumulates across restarts; only this run's output says whether it has started.
    const runStart = this.output.length;
    return new Promise((resolveStart, reject) => {
      const timer = setTimeout(() => reject(new Error(`broker did not start within ${START_TIMEOUT_MS / 1000} s:\n${this.output}`)), START_TIMEOUT_MS);
      const onData = (chunk: Buffer) => {
        this.output += chunk.toString();
        // The server prints this line once every listener is bound and start-up is complete.
        if (this.output.includes('"msg":"started"', runStart)) {
          clearTimeout(timer);
          resolveStart({ started: true });
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.child === child) this.child = null;
        // Streams may still hold the last lines: wait for them before reporting.
        let open = 2;
        const done = () => {
          if (--open === 0) resolveStart({ started: false, code, signal, output: this.output.slice(runStart) });
        };
        if (child.stdout!.readableEnded) done();
        else child.stdout!.once('end', done);
        if (child.stderr!.readableEnded) done();
        else child.stderr!.once('end', done);
      });
    });
  }

  /** SIGTERM and wait for a clean exit; returns the exit code. */
  async stop(): Promise<number | null> {
    return this.signal('SIGTERM');
  }

  /** SIGKILL: no shutdown hooks run, as after a crash. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  private async signal(sig: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill(sig);
    const code = await exited;
    this.child = null;
    return code;
  }

  /** Stops the broker and removes its data directory if the helper created it. */
  async destroy(): Promise<void> {
    await this.kill();
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export async function startBroker(opts: BrokerProcessOptions = {}): Promise<BrokerProcess> {
  return new BrokerProcess(opts).start();
}
