// `tributary acls`: kafka-acls.sh with its flags and output: --add, --remove (--force to skip the
// question), --list for topics, groups, the cluster and transactional ids, with --allow-/--deny-
// principal and host, --operation, --resource-pattern-type, and the --producer / --consumer /
// --idempotent shortcuts.
import { createInterface } from 'node:readline/promises';
import { Admin } from '../client/index.js';
import { KafkaClientError } from '../client/errors.js';
import { AclOperation, AclPermission, CLUSTER_RESOURCE_NAME, OPERATION_NAMES, PATTERN_TYPE_NAMES, PERMISSION_NAMES, PatternType, RESOURCE_TYPE_NAMES, ResourceType, type AclBinding, type AclBindingFilter } from '../protocol/acls.js';
import { ToolError, UsageError, clientOptions, flag, out, parseToolArgs, runTool, showHelp, str, strs } from './tool-support.js';

const USAGE = `Usage: tributary acls --bootstrap-server HOST:PORT (--add | --remove | --list)
  [--topic T]... [--group G]... [--cluster] [--transactional-id T]... [--resource-pattern-type literal|prefixed|match|any]
  [--allow-principal User:NAME]... [--allow-host HOST]... [--deny-principal User:NAME]... [--deny-host HOST]...
  [--operation Read|Write|Create|Delete|Alter|Describe|ClusterAction|DescribeConfigs|AlterConfigs|IdempotentWrite|All]...
  [--producer [--idempotent]] [--consumer --group G] [--principal User:NAME] (with --list) [--force] (with --remove)
`;

interface Pattern {
  resourceType: number;
  resourceName: string;
  patternType: number;
}

interface Entry {
  principal: string;
  host: string;
  operation: number;
  permission: number;
}

export async function runAcls(argv: string[]): Promise<void> {
  await runTool('acls', USAGE, async () => {
    const { values } = parseToolArgs(argv, {
      add: { type: 'boolean' },
      remove: { type: 'boolean' },
      list: { type: 'boolean' },
      force: { type: 'boolean' },
      topic: { type: 'string', multiple: true },
      group: { type: 'string', multiple: true },
      cluster: { type: 'boolean' },
      'transactional-id': { type: 'string', multiple: true },
      'resource-pattern-type': { type: 'string' },
      'allow-principal': { type: 'string', multiple: true },
      'allow-host': { type: 'string', multiple: true },
      'deny-principal': { type: 'string', multiple: true },
      'deny-host': { type: 'string', multiple: true },
      operation: { type: 'string', multiple: true },
      producer: { type: 'boolean' },
      consumer: { type: 'boolean' },
      idempotent: { type: 'boolean' },
      principal: { type: 'string', multiple: true },
    });
    if (showHelp(values, USAGE)) return;
    const actions = ['add', 'remove', 'list'].filter((a) => flag(values, a));
    if (actions.length !== 1) throw new UsageError('Command must include exactly one action: --list, --add, --remove.');
    const patternName = (str(values, 'resource-pattern-type') ?? 'literal').toUpperCase();
    const patternType = (PatternType as Record<string, number>)[patternName];
    if (patternType === undefined || patternType === PatternType.UNKNOWN) throw new UsageError(`Unrecognised resource pattern type ${patternName.toLowerCase()}: expected literal, prefixed, match or any`);
    if (actions[0] === 'add' && (patternType === PatternType.ANY || patternType === PatternType.MATCH)) throw new UsageError(`A '--resource-pattern-type' value of '${patternName}' is not valid when adding acls.`);
    if (flag(values, 'consumer') && strs(values, 'group').length === 0) throw new UsageError('With --consumer you must specify a --group');
    const toAcls = aclsFromOptions(values, patternType);
    const admin = new Admin(clientOptions(values));
    try {
      if (actions[0] === 'list') return await list(admin, values, patternType);
      for (const [key, entries] of toAcls) {
        const pattern = JSON.parse(key) as Pattern;
        if (actions[0] === 'add') {
          if (entries.length === 0) throw new UsageError('You must specify one of: --allow-principal, --deny-principal when trying to add ACLs.');
          await out(`Adding ACLs for resource \`${patternText(pattern)}\`: \n ${entries.map((e) => `\t${entryText(e)}`).join('\n')} \n\n`);
          const errors = await admin.createAcls(entries.map((e) => ({ ...pattern, ...e })));
          const failure = errors.find((e) => e !== null);
          if (failure !== undefined && failure !== null) throw failure;
        } else {
          const question = entries.length === 0 ? `Are you sure you want to delete all ACLs for resource filter \`${patternFilterText(pattern)}\`? (y/n)` : `Are you sure you want to remove ACLs: \n ${entries.map((e) => `\t${entryText(e)}`).join('\n')} \n from resource filter \`${patternFilterText(pattern)}\`? (y/n)`;
          if (!flag(values, 'force') && !(await confirm(question))) continue;
          const filters: AclBindingFilter[] =
            entries.length === 0
              ? [{ ...pattern, principal: null, host: null, operation: AclOperation.ANY, permission: AclPermission.ANY }]
              : entries.map((e) => ({ ...pattern, ...e }));
          const results = await admin.deleteAcls(filters);
          const failure = results.find((r) => r.error !== null);
          if (failure !== undefined) throw failure.error!;
        }
      }
    } catch (err) {
      if (err instanceof KafkaClientError) throw new ToolError(`Error while executing ACL command: ${err.detail ?? err.message}`);
      throw err;
    } finally {
      await admin.close();
    }
  });
}

type Values = Parameters<typeof flag>[0];

/** Resource pattern (as JSON, a map key) -> the entries the options give for it. */
function aclsFromOptions(values: Values, patternType: number): Map<string, Entry[]> {
  const out = new Map<string, Entry[]>();
  const add = (resourceType: number, resourceName: string, operations: readonly number[]) => {
    const key = JSON.stringify({ resourceType, resourceName, patternType: resourceType === ResourceType.CLUSTER ? PatternType.LITERAL : patternType });
    const list = out.get(key) ?? [];
    for (const e of entries(values, operations)) if (!list.some((x) => JSON.stringify(x) === JSON.stringify(e))) list.push(e);
    out.set(key, list);
  };
  const topics = strs(values, 'topic');
  const groups = strs(values, 'group');
  const txnIds = strs(values, 'transactional-id');
  if (flag(values, 'producer') || flag(values, 'consumer')) {
    if (flag(values, 'producer')) {
      for (const t of topics) add(ResourceType.TOPIC, t, [AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE]);
      for (const t of txnIds) add(ResourceType.TRANSACTIONAL_ID, t, [AclOperation.WRITE, AclOperation.DESCRIBE]);
      if (flag(values, 'idempotent')) add(ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, [AclOperation.IDEMPOTENT_WRITE]);
    }
    if (flag(values, 'consumer')) {
      for (const t of topics) add(ResourceType.TOPIC, t, [AclOperation.READ, AclOperation.DESCRIBE]);
      for (const g of groups) add(ResourceType.GROUP, g, [AclOperation.READ]);
    }
    return out;
  }
  const ops = strs(values, 'operation').map(parseOperation);
  const operations = ops.length === 0 ? [AclOperation.ALL] : ops;
  for (const t of topics) add(ResourceType.TOPIC, t, operations);
  for (const g of groups) add(ResourceType.GROUP, g, operations);
  for (const t of txnIds) add(ResourceType.TRANSACTIONAL_ID, t, operations);
  if (flag(values, 'cluster')) add(ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, operations);
  if (out.size === 0 && !flag(values, 'list')) throw new UsageError('You must provide at least one resource: --topic <topic> or --cluster or --group <group> or --transactional-id <id>');
  return out;
}

function entries(values: Values, operations: readonly number[]): Entry[] {
  const result: Entry[] = [];
  for (const [principals, hostsOpt, permission] of [
    [strs(values, 'allow-principal'), strs(values, 'allow-host'), AclPermission.ALLOW],
    [strs(values, 'deny-principal'), strs(values, 'deny-host'), AclPermission.DENY],
  ] as const) {
    for (const p of principals) {
      if (!p.includes(':')) throw new UsageError(`Could not parse principal from \`${p}\` (no colon is present separating the principal type from the principal name)`);
      for (const host of hostsOpt.length === 0 ? ['*'] : hostsOpt) for (const operation of operations) result.push({ principal: p, host, operation, permission });
    }
  }
  return result;
}

function parseOperation(name: string): number {
  // kafka-acls takes Read, DescribeConfigs, ... (camel case) as well as READ, DESCRIBE_CONFIGS.
  const upper = name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
  const code = (AclOperation as Record<string, number>)[upper];
  if (code === undefined || code === AclOperation.ANY || code === AclOperation.UNKNOWN) throw new UsageError(`Invalid operation ${name}`);
  return code;
}

async function list(admin: Admin, values: Values, patternType: number): Promise<void> {
  const patterns = [...aclsFromOptions(values, patternType).keys()].map((k) => JSON.parse(k) as Pattern);
  const filters: AclBindingFilter[] =
    patterns.length === 0
      ? [{ resourceType: ResourceType.ANY, resourceName: null, patternType: PatternType.ANY, principal: null, host: null, operation: AclOperation.ANY, permission: AclPermission.ANY }]
      : patterns.map((p) => ({ ...p, principal: null, host: null, operation: AclOperation.ANY, permission: AclPermission.ANY }));
  const bindings: AclBinding[] = [];
  for (const f of filters) bindings.push(...(await admin.describeAcls(f)));
  const principals = strs(values, 'principal');
  const lines: string[] = [];
  const print = (chosen: readonly AclBinding[]) => {
    const byResource = new Map<string, AclBinding[]>();
    for (const b of chosen) {
      const key = patternText(b);
      byResource.set(key, [...(byResource.get(key) ?? []), b]);
    }
    for (const [resource, acls] of byResource) lines.push(`Current ACLs for resource \`${resource}\`: \n ${acls.map((a) => `\t${entryText(a)}`).join('\n')} \n\n`);
  };
  if (principals.length === 0) print(bindings);
  else {
    for (const p of principals) {
      lines.push(`ACLs for principal \`${p}\`\n`);
      print(bindings.filter((b) => b.principal === p));
    }
  }
  await out(lines.join(''));
}

/** Kafka's ResourcePattern.toString. */
function patternText(p: Pattern): string {
  return `ResourcePattern(resourceType=${RESOURCE_TYPE_NAMES.get(p.resourceType)}, name=${p.resourceName}, patternType=${PATTERN_TYPE_NAMES.get(p.patternType)})`;
}

/** Kafka's ResourcePatternFilter.toString. */
function patternFilterText(p: Pattern): string {
  return `ResourcePatternFilter(resourceType=${RESOURCE_TYPE_NAMES.get(p.resourceType)}, name=${p.resourceName}, patternType=${PATTERN_TYPE_NAMES.get(p.patternType)})`;
}

/** Kafka's AccessControlEntry.toString. */
function entryText(e: Entry): string {
  return `(principal=${e.principal}, host=${e.host}, operation=${OPERATION_NAMES.get(e.operation)}, permissionType=${PERMISSION_NAMES.get(e.permission)})`;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question}\n`)).trim());
  } finally {
    rl.close();
  }
}
