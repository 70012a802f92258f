// Three `process.roles=broker,controller` processes with one three-voter controller.quorum.voters,
// formatted with one cluster id by `tributary storage format`, and the tools the KRaft tests read
// them with (kcat -L, metadata-quorum describe --status).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerProcess, freePort, tempDir, tributaryBin } from './broker-process.js';
import { kcat, run, type RunResult } from './clients.js';

export const KRAFT_IDS = [1, 2, 3] as const;

export interface KraftNode {
  id: number;
  port: number;
  controllerPort: number;
  dir: string;
  broker: BrokerProcess;
}

export const tool = (args: string[]): Promise<RunResult> => run(process.execPath, [tributaryBin, ...args], { timeoutMs: 60_000 });

/** Runs a `tributary` tool that must succeed; its stdout. */
export async function ok(args: string[]): Promise<string> {
  const r = await tool(args);
  assert.equal(r.code, 0, `${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** Formats three combined nodes (not started) with one cluster id; `overrides` go to every node. */
export async function formatKraftCluster(overrides: Record<string, string> = {}): Promise<{ nodes: KraftNode[]; clusterId: string }> {
  return formatKraftNodes(KRAFT_IDS.map((id) => ({ id, roles: 'broker,controller' })), overrides);
}

export type KraftRoles = 'broker,controller' | 'controller' | 'broker';

/**
 * Formats nodes (not started) with one cluster id; the voters are the nodes with the controller
 * role. A node's `port` is its broker listener's, or its controller listener's when it has no
 * broker role (a dedicated controller).
 */
export async function formatKraftNodes(layout: readonly { id: number; roles: KraftRoles }[], overrides: Record<string, string> = {}): Promise<{ nodes: KraftNode[]; clusterId: string }> {
  const root = tempDir('tributary-kraft-');
  const ports = await Promise.all(layout.map(async () => ({ port: await freePort(), controllerPort: await freePort() })));
  const voters = layout.flatMap((n, i) => (n.roles.includes('controller') ? [`${n.id}@127.0.0.1:${ports[i]!.controllerPort}`] : [])).join(',');
  const clusterId = (await ok(['storage', 'random-uuid'])).trim();
  const nodes: KraftNode[] = [];
  for (const [i, { id, roles }] of layout.entries()) {
    const { controllerPort } = ports[i]!;
    const broker = roles.includes('broker');
    const controller = roles.includes('controller');
    const port = broker ? ports[i]!.port : controllerPort;
    const dir = join(root, `node-${id}`);
    const listeners = [...(broker ? [`PLAINTEXT://127.0.0.1:${port}`] : []), ...(controller ? [`CONTROLLER://127.0.0.1:${controllerPort}`] : [])].join(',');
    const settings: Record<string, string> = {
      'node.id': String(id),
      'process.roles': roles,
      listeners,
      ...(broker ? { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}` } : {}),
      'controller.listener.names': 'CONTROLLER',
      'controller.quorum.voters': voters,
      'log.dirs': dir,
      'broker.session.timeout.ms': '3000',
      'broker.heartbeat.interval.ms': '500',
      ...overrides,
    };
    const file = join(root, `node-${id}.properties`);
    writeFileSync(file, Object.entries(settings).map(([k, v]) => `${k}=${v}\n`).join(''));
    await ok(['storage', 'format', '--config', file, '--cluster-id', clusterId]);
    nodes.push({ id, port, controllerPort, dir, broker: new BrokerProcess({ dataDir: dir, port, overrides: settings }) });
  }
  return { nodes, clusterId };
}

/** What `kcat -L` against `node` lists: broker ids and topic names (internal ones left out). */
export async function kcatMetadata(node: KraftNode): Promise<{ brokers: number[]; topics: string[] }> {
  const r = await kcat(['-b', `127.0.0.1:${node.port}`, '-L', '-m', '10']);
  assert.equal(r.code, 0, r.stderr);
  const brokers = [...r.stdout.matchAll(/^ {2}broker (\d+) at /gm)].map((m) => Number(m[1]));
  const topics = [...r.stdout.matchAll(/^ {2}topic "([^"]+)" with/gm)].map((m) => m[1]!).filter((t) => !t.startsWith('__')).sort();
  return { brokers: brokers.sort(), topics };
}

/** `metadata-quorum describe --status` fields. */
export async function quorumStatus(bootstrap: string, flag = '--bootstrap-server'): Promise<Map<string, string>> {
  const out = await ok(['metadata-quorum', flag, bootstrap, 'describe', '--status']);
  return new Map(out.trimEnd().split('\n').map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim()] as [string, string];
  }));
}
