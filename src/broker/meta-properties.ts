// Kafka's meta.properties: which cluster (and node) a data directory belongs to. Written once, when
// a directory is first used; read strictly afterwards. A damaged or missing file in a directory
// that holds data stops start-up: making up a new cluster id would silently turn the directory
// into a different cluster's.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StorageStartupError } from '../storage/errors.js';
import { parsePartitionDirName } from '../storage/files.js';
import { ConfigError } from './config.js';

export const META_PROPERTIES_FILE = 'meta.properties';

/**
 * A Kafka Uuid as Kafka prints it: 16 random bytes, base64url without padding. As Kafka's, never
 * one that starts with '-' (it would read as an option on a command line).
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Whether `id` is a Kafka Uuid in its printed form (22 base64url characters, 16 bytes). */
export function isKafkaUuid(id: string): boolean {
  return /^[A-Za-z0-9_-]{21}[AQgw]$/.test(id) && Buffer.from(id, 'base64url').length === 16;
}

/** The meta.properties a formatted directory gets (version 1, as `kafka-storage.sh format`). */
export function writeMetaProperties(dir: string, nodeId: number, clusterId: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, META_PROPERTIES_FILE), `#\n#Written by Tributary\nnode.id=${nodeId}\nversion=1\ncluster.id=${clusterId}\ndirectory.id=${newClusterId()}\n`);
}

interface MetaProperties {
  clusterId: string;
  nodeId: number;
}

/**
 * Reads meta.properties of every directory (they must agree with each other and with the
 * configured node.id and cluster.id) and writes it into directories that have none and hold no
 * data. Returns the cluster id: the one found, else the configured one, else a new one.
 */
export function readOrWriteMetaProperties(dirs: readonly string[], nodeId: number, configured: string | null, quorumVoters = 1): string {
  // A voter of a quorum must not make up a cluster id: each voter would have its own.
  if (quorumVoters > 1 && configured === null && dirs.some((d) => !existsSync(join(d, META_PROPERTIES_FILE)))) {
    const missing = dirs.filter((d) => !existsSync(join(d, META_PROPERTIES_FILE)));
    throw new ConfigError(
      `No meta.properties in ${missing.join(', ')}: a node of a ${quorumVoters}-voter quorum (controller.quorum.voters) is formatted first, with the same cluster id on every node: ` +
        `tributary storage format --cluster-id <id> --config <server.properties> (tributary storage random-uuid makes an id), or set cluster.id`,
    );
  }
  let clusterId: string | null = configured;
  let clusterIdFrom = "configuration 'cluster.id'";
  for (const dir of dirs) {
    const file = join(dir, META_PROPERTIES_FILE);
    if (!existsSync(file)) {
      const data = dataIn(dir);
      if (data !== null) {
        throw new StorageStartupError(
          `${file} is missing, but ${dir} holds data (${data}). Refusing to start with a new cluster id: restore meta.properties.`,
          file,
        );
      }
      continue;
    }
    const found = parseMetaProperties(file);
    if (found.nodeId !== nodeId) throw new ConfigError(`Configuration 'node.id' (${nodeId}) does not match node.id=${found.nodeId} in ${file}`);
    if (clusterId !== null && clusterId !== found.clusterId) {
      const what = clusterIdFrom.startsWith('configuration') ? `Configuration 'cluster.id' (${clusterId})` : `cluster.id=${clusterId} in ${clusterIdFrom}`;
      throw new ConfigError(`${what} does not match cluster.id=${found.clusterId} in ${file}`);
    }
    clusterId = found.clusterId;
    clusterIdFrom = file;
  }
  clusterId ??= newClusterId();
  for (const dir of dirs) if (!existsSync(join(dir, META_PROPERTIES_FILE))) writeMetaProperties(dir, nodeId, clusterId);
  return clusterId;
}

/** Version 1 (node.id, cluster.id) or version 0 (broker.id, cluster.id), as Kafka writes them. */
export function parseMetaProperties(file: string): MetaProperties & { readonly properties: ReadonlyMap<string, string> } {
  const damaged = (why: string) =>
    new StorageStartupError(`${file} is damaged: ${why}. Refusing to start: it names the cluster this directory belongs to; restore it.`, file);
  const props = new Map<string, string>();
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0 || !/^[a-z.]+$/.test(line.slice(0, eq).trim())) throw damaged(`line ${i + 1} is not key=value`);
    props.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const version = props.get('version');
  if (version !== '0' && version !== '1') throw damaged(`version is ${version === undefined ? 'missing' : `'${version}'`}, expected 0 or 1`);
  const clusterId = props.get('cluster.id');
  if (clusterId === undefined || !/^[A-Za-z0-9_-]+$/.test(clusterId)) throw damaged(`cluster.id is ${clusterId === undefined ? 'missing' : `'${clusterId}'`}`);
  const nodeKey = version === '1' ? 'node.id' : 'broker.id';
  const nodeText = props.get(nodeKey);
  if (nodeText === undefined || !/^\d+$/.test(nodeText)) throw damaged(`${nodeKey} is ${nodeText === undefined ? 'missing' : `'${nodeText}'`}`);
  return { clusterId, nodeId: Number(nodeText), properties: props };
}

/** What in `dir` shows it has been used (partition directories, checkpoints), or null. */
function dataIn(dir: string): string | null {
  if (!existsSync(dir)) return null;
  const partitions = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && parsePartitionDirName(e.name) !== null);
  if (partitions.length > 0) return `${partitions.length} partition director${partitions.length === 1 ? 'y' : 'ies'}, e.g. ${partitions[0]!.name}`;
  for (const name of ['recovery-point-offset-checkpoint', 'log-start-offset-checkpoint']) if (existsSync(join(dir, name))) return name;
  return null;
}
