// `tributary storage`: kafka-storage.sh. `random-uuid` prints a new cluster id; `format` writes
// meta.properties (cluster id, node id, a new directory id) into every log directory and the
// metadata directory of a server configuration, and into the metadata directory
// bootstrap.checkpoint (feature levels, --add-scram users), refusing directories already formatted unless
// --ignore-formatted; `info` reports what those directories hold. Output and messages in Kafka's
// words. A node formats itself on first start when its directories are empty (the single-node
// default); a multi-voter node needs either this command or `cluster.id`, so that the voters
// cannot each make up a cluster of their own.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerConfig, ConfigError } from '../broker/config.js';
import { META_PROPERTIES_FILE, newClusterId, parseMetaProperties, writeMetaProperties } from '../broker/meta-properties.js';
import { BOOTSTRAP_FEATURES, METADATA_VERSION, metadataVersionName } from '../metadata/features.js';
import { StorageStartupError } from '../storage/errors.js';
import { randomBytes } from 'node:crypto';
import { writeBootstrapCheckpoint } from '../controller/bootstrap-checkpoint.js';
import { planBootstrapFeatures } from '../controller/planner.js';
import { MetadataImage } from '../metadata/image.js';
import { MetadataRecordType, type MetadataRecord } from '../metadata/records.js';
import { SCRAM_MECHANISMS, saltedPassword, scramCredential, scramMechanismByName } from '../protocol/scram.js';
import { ToolError, UsageError, flag, out, parseToolArgs, runTool, showHelp, str, type ParsedValues } from './tool-support.js';

const USAGE = `Usage: tributary storage <command> [options]

Commands:
  random-uuid                                   print a random UUID (a new cluster id)
  format --config FILE --cluster-id ID [--ignore-formatted] [--standalone | --no-initial-controllers]
         [--add-scram 'SCRAM-SHA-256=[name=NAME,password=PASSWORD]' ...]
                                                format the log and metadata directories of FILE
  info --config FILE                            describe the log and metadata directories of FILE

Options:
  -c, --config FILE          the server configuration (server.properties)
  -t, --cluster-id ID        the cluster id to format with (tributary storage random-uuid)
  -g, --ignore-formatted     skip directories already formatted instead of failing
  -s, --standalone           format a controller as a single-voter quorum
  -N, --no-initial-controllers
                             format without an initial quorum (voters from controller.quorum.voters)
  -S, --add-scram MECHANISM=[name=NAME,password=PASSWORD]
                             a SCRAM user the new cluster starts with (also iterations=N, or
                             salt=BASE64,saltedpassword=BASE64 instead of the password); repeatable
`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  'cluster-id': { type: 'string', short: 't' },
  'ignore-formatted': { type: 'boolean', short: 'g' },
  standalone: { type: 'boolean', short: 's' },
  'no-initial-controllers': { type: 'boolean', short: 'N' },
  'initial-controllers': { type: 'string', short: 'I' },
  'release-version': { type: 'string', short: 'r' },
  feature: { type: 'string', short: 'f', multiple: true },
  'add-scram': { type: 'string', short: 'S', multiple: true },
} as const;

export async function runStorage(argv: string[]): Promise<void> {
  await runTool('storage', USAGE, async () => {
    const { values, positionals } = parseToolArgs(argv, OPTIONS);
    if (showHelp(values, USAGE)) return;
    const command = positionals[0];
    if (positionals.length > 1) throw new UsageError(`Unexpected argument '${positionals[1]}'`);
    switch (command) {
      case 'random-uuid':
        return out(`${newClusterId()}\n`);
      case 'format':
        return out(format(values));
      case 'info': {
        const report = info(loadConfig(values));
        await out(report.text);
        if (report.problems) process.exitCode = 1;
        return;
      }
      case undefined:
        throw new UsageError('Missing command: format, info or random-uuid');
      default:
        throw new UsageError(`Unknown command '${command}': format, info or random-uuid`);
    }
  });
}

function loadConfig(values: ParsedValues): BrokerConfig {
  const file = str(values, 'config');
  if (file === undefined) throw new UsageError('Missing required argument --config');
  if (!existsSync(file)) throw new ToolError(`Error: cannot read configuration file '${file}'`);
  try {
    return BrokerConfig.load(file, new Map());
  } catch (err) {
    if (err instanceof ConfigError) throw new ToolError(`Error: ${err.message}`);
    throw err;
  }
}

/** The directories of a node, sorted, as kafka-storage.sh takes them: log.dirs and the metadata directory. */
function directoriesOf(config: BrokerConfig): { dirs: string[]; metadataDir: string } {
  const metadataDir = config.raw('metadata.log.dir') ?? config.logDirs[0]!;
  return { dirs: [...new Set([...config.logDirs, metadataDir])].sort(), metadataDir };
}

function format(values: ParsedValues): string {
  for (const unsupported of ['initial-controllers', 'release-version', 'feature'] as const) {
    if (values[unsupported] !== undefined) throw new ToolError(`Error: --${unsupported} is not supported by Tributary yet`);
  }
  const config = loadConfig(values);
  const clusterId = str(values, 'cluster-id');
  if (clusterId === undefined) throw new ToolError('Error: You must specify the cluster id.');
  if (!/^[A-Za-z0-9_-]+$/.test(clusterId)) throw new ToolError(`Error: Cluster ID string ${clusterId} does not appear to be a valid UUID`);
  const nodeId = config.nodeId;
  if (nodeId < 0) throw new ToolError('Error: You must specify a valid non-negative node ID.');
  if (config.roles.includes('controller') && config.list('controller.quorum.voters').length === 0 && !flag(values, 'standalone') && !flag(values, 'no-initial-controllers')) {
    // Tributary's single-node default (no voters) is a standalone controller: formatting it says so.
    throw new ToolError(
      'Error: Because controller.quorum.voters is not set on this controller, you must specify one of the following: --standalone, --initial-controllers, or --no-initial-controllers.',
    );
  }
  const credentials = (values['add-scram'] as string[] | undefined ?? []).map(parseAddScram);
  const { dirs, metadataDir } = directoriesOf(config);
  const unformatted: string[] = [];
  for (const dir of dirs) {
    const file = join(dir, META_PROPERTIES_FILE);
    if (!existsSync(file)) {
      unformatted.push(dir);
      continue;
    }
    const found = readOrExplain(file);
    if (found.clusterId !== clusterId) throw new ToolError(`Error: Invalid cluster.id in: ${file}. Expected ${clusterId}, but read ${found.clusterId}`);
    if (found.nodeId !== nodeId) throw new ToolError(`Error: Stored node id ${found.nodeId} doesn't match previous node id ${nodeId} in ${file}.`);
    if (!flag(values, 'ignore-formatted')) {
      throw new ToolError(`Error: Log directory ${dir} is already formatted. Use --ignore-formatted to ignore this directory and format the others.`);
    }
  }
  if (unformatted.length === 0) return 'All of the log directories are already formatted.\n';
  const release = metadataVersionName(BOOTSTRAP_FEATURES.get(METADATA_VERSION)!);
  let text = '';
  for (const dir of unformatted) {
    text += `Formatting ${dir === metadataDir ? 'metadata directory' : 'data directory'} ${dir} with metadata.version ${release}.\n`;
    try {
      writeMetaProperties(dir, nodeId, clusterId);
      // What the first active controller of the new cluster commits: the feature levels, and
      // the users the brokers' SCRAM listeners need before any admin request can make them.
      if (dir === metadataDir) writeBootstrapCheckpoint(dir, [...planBootstrapFeatures(MetadataImage.EMPTY, BOOTSTRAP_FEATURES), ...credentials], Date.now());
    } catch (err) {
      throw new ToolError(`Error: Error while writing meta.properties file ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  return text;
}

/**
 * One --add-scram argument, as kafka-storage.sh takes it:
 * `SCRAM-SHA-256=[name=alice,password=alice-secret]`, or with `iterations=N`, or with
 * `salt=BASE64,saltedpassword=BASE64` instead of the password. Values may be double-quoted.
 */
export function parseAddScram(arg: string): MetadataRecord {
  const eq = arg.indexOf('=');
  if (eq < 0) throw new ToolError(`Error: Failed to find equals sign in SCRAM argument '${arg}'`);
  const mechanismName = arg.slice(0, eq);
  const m = scramMechanismByName(mechanismName);
  if (m === undefined || m.name !== mechanismName) throw new ToolError(`Error: Invalid SCRAM mechanism ${mechanismName}. Valid mechanisms are: ${SCRAM_MECHANISMS.map((x) => x.name).join(', ')}`);
  const body = arg.slice(eq + 1);
  if (!body.startsWith('[')) throw new ToolError(`Error: Expected configuration string to start with [`);
  if (!body.endsWith(']')) throw new ToolError(`Error: Expected configuration string to end with ]`);
  const fields = new Map<string, string>();
  for (const part of body.slice(1, -1).split(',')) {
    if (part === '') continue;
    const i = part.indexOf('=');
    if (i < 0) throw new ToolError(`Error: Failed to find equals sign in SCRAM configuration '${part}'`);
    const key = part.slice(0, i);
    let value = part.slice(i + 1);
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!['name', 'password', 'iterations', 'salt', 'saltedpassword'].includes(key)) throw new ToolError(`Error: Unknown SCRAM configuration key ${key}`);
    fields.set(key, value);
  }
  const name = fields.get('name');
  if (name === undefined || name === '') throw new ToolError(`Error: You must supply 'name' to add-scram`);
  const iterationsText = fields.get('iterations') ?? String(m.minIterations);
  const iterations = /^[0-9]+$/.test(iterationsText) ? Number(iterationsText) : NaN;
  if (!(iterations >= m.minIterations)) throw new ToolError(`Error: The number of iterations must be at least ${m.minIterations}`);
  if (iterations > m.maxIterations) throw new ToolError(`Error: The number of iterations must be at most ${m.maxIterations}`);
  const password = fields.get('password');
  const salted = fields.get('saltedpassword');
  if ((password === undefined) === (salted === undefined)) throw new ToolError(`Error: You must supply exactly one of 'password' or 'saltedpassword' to add-scram`);
  const saltText = fields.get('salt');
  if (salted !== undefined && saltText === undefined) throw new ToolError(`Error: You must supply 'salt' with 'saltedpassword' to add-scram`);
  const salt = saltText !== undefined ? Buffer.from(saltText, 'base64') : randomBytes(32);
  const saltedBytes = salted !== undefined ? Buffer.from(salted, 'base64') : saltedPassword(m, password!, salt, iterations);
  if (saltedBytes.length !== m.keyBytes || salt.length === 0) throw new ToolError(`Error: The salted password of ${m.name} must be ${m.keyBytes} bytes of base64, with a salt`);
  const c = scramCredential(m, saltedBytes, salt, iterations);
  return { type: MetadataRecordType.UserScramCredentialRecord, version: 0, data: { name, mechanism: m.type, salt: c.salt, storedKey: c.storedKey, serverKey: c.serverKey, iterations } };
}

function readOrExplain(file: string): ReturnType<typeof parseMetaProperties> {
  try {
    return parseMetaProperties(file);
  } catch (err) {
    if (err instanceof StorageStartupError) throw new ToolError(`Error: ${err.message}`);
    throw err;
  }
}

function info(config: BrokerConfig): { text: string; problems: boolean } {
  const { dirs } = directoriesOf(config);
  const problems: string[] = [];
  const found: string[] = [];
  let first: ReturnType<typeof parseMetaProperties> | null = null;
  for (const dir of dirs) {
    if (!existsSync(dir)) {
      problems.push(`${dir} does not exist`);
      continue;
    }
    if (!statSync(dir).isDirectory()) {
      problems.push(`${dir} is not a directory`);
      continue;
    }
    found.push(dir);
    const file = join(dir, META_PROPERTIES_FILE);
    if (!existsSync(file)) {
      problems.push(`${dir} is not formatted.`);
      continue;
    }
    let meta: ReturnType<typeof parseMetaProperties>;
    try {
      meta = parseMetaProperties(file);
    } catch (err) {
      problems.push(`Error loading ${file}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    if (first === null) first = meta;
    else if (first.clusterId !== meta.clusterId) problems.push('Mismatched cluster IDs between storage directories.');
    else if (first.nodeId !== meta.nodeId) problems.push('Mismatched node IDs between storage directories.');
  }
  if (first !== null && first.properties.get('version') === '0') {
    problems.push('The kafka configuration file appears to be for a cluster in KRaft mode, but the directories are formatted for legacy mode.');
  }
  let text = '';
  if (found.length > 0) text += `Found log director${found.length === 1 ? 'y' : 'ies'}:\n${found.map((d) => `  ${d}\n`).join('')}\n`;
  if (first !== null) {
    // As Kafka prints a sorted java.util.Map: the first directory's properties.
    const shown = [...first.properties].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    text += `Found metadata: {${shown.map(([k, v]) => `${k}=${v}`).join(', ')}}\n\n`;
  }
  if (problems.length > 0) text += `Found problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p}\n`).join('')}\n`;
  return { text, problems: problems.length > 0 };
}
