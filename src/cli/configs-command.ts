// `tributary configs`: kafka-configs.sh --describe / --alter for topics, brokers, groups and users
// (SCRAM credentials: --add-config 'SCRAM-SHA-256=[iterations=8192,password=secret]').
import { Admin, type ConfigResourceType } from '../client/index.js';
import type { ScramCredentialAlteration, ScramMechanismName } from '../client/admin.js';
import { ErrorCode } from '../protocol/errors.js';
import { scramMechanismByName } from '../protocol/scram.js';
import { KafkaClientError } from '../client/errors.js';
import { ToolError, UsageError, clientOptions, flag, keyValues, out, parseToolArgs, runTool, showHelp, str, strs } from './tool-support.js';

const USAGE = `Usage: tributary configs --bootstrap-server HOST:PORT
  --describe --entity-type topics|brokers|groups|users [--entity-name NAME | --entity-default] [--all]
  --alter --entity-type topics|brokers|groups|users [--entity-name NAME | --entity-default]
          [--add-config k1=v1,k2=v2] [--delete-config k1,k2]
  users: --add-config 'SCRAM-SHA-256=[iterations=8192,password=PASSWORD],SCRAM-SHA-512=[password=PASSWORD]'
         --delete-config SCRAM-SHA-512
  (--topic T and --broker ID are shorthands for --entity-type/--entity-name)
`;

const ENTITY_TYPES: Readonly<Record<string, { type: ConfigResourceType; singular: string }>> = {
  topics: { type: 'topic', singular: 'topic' },
  brokers: { type: 'broker', singular: 'broker' },
  'broker-loggers': { type: 'broker-logger', singular: 'broker-logger' },
  groups: { type: 'group', singular: 'group' },
};

export async function runConfigs(argv: string[]): Promise<void> {
  await runTool('configs', USAGE, async () => {
    const { values } = parseToolArgs(argv, {
      describe: { type: 'boolean' },
      alter: { type: 'boolean' },
      'entity-type': { type: 'string' },
      'entity-name': { type: 'string' },
      'entity-default': { type: 'boolean' },
      topic: { type: 'string' },
      broker: { type: 'string' },
      'add-config': { type: 'string', multiple: true },
      'delete-config': { type: 'string', multiple: true },
      all: { type: 'boolean' },
    });
    if (showHelp(values, USAGE)) return;
    if (flag(values, 'describe') === flag(values, 'alter')) throw new UsageError('Command must include exactly one action: --describe, --alter');
    let entityType = str(values, 'entity-type');
    let entityName = str(values, 'entity-name');
    if (str(values, 'topic') !== undefined) [entityType, entityName] = ['topics', str(values, 'topic')];
    if (str(values, 'broker') !== undefined) [entityType, entityName] = ['brokers', str(values, 'broker')];
    if (entityType === undefined) throw new UsageError('Missing required argument "--entity-type"');
    if (entityType === 'users') {
      await userConfigs(values, entityName, argv);
      return;
    }
    const entity = ENTITY_TYPES[entityType];
    if (entity === undefined) throw new UsageError(`Invalid entity type ${entityType}, the entity type must be one of topics, brokers, broker-loggers, groups, users`);
    if (flag(values, 'entity-default')) {
      if (entity.type !== 'broker') throw new UsageError('--entity-default is only supported for brokers');
      entityName = '';
    }
    const admin = new Admin(clientOptions(values));
    try {
      if (flag(values, 'describe')) {
        let names: string[];
        if (entityName !== undefined) names = [entityName];
        else if (entity.type === 'topic') names = await admin.listTopics();
        else if (entity.type === 'group') names = (await admin.listGroups()).map((g) => g.groupId);
        else names = (await admin.describeCluster()).brokers.map((b) => String(b.nodeId));
        const results = await admin.describeConfigs(
          names.map((name) => ({ type: entity.type, name })),
          { includeSynonyms: true },
        );
        const lines: string[] = [];
        for (const r of results) {
          const label = entity.type === 'broker' && r.name === '' ? 'default brokers' : `${entity.singular} ${r.name}`;
          const all = flag(values, 'all');
          // As kafka-configs: without --all, only what is set on the entity itself.
          const entries = all ? r.entries : r.entries.filter((e) => e.source.startsWith('DYNAMIC') || e.source === 'GROUP_CONFIG');
          lines.push(`${all ? 'All' : 'Dynamic'} configs for ${label} are:`);
          for (const e of entries) {
            const value = e.isSensitive ? null : e.value;
            const synonyms = e.synonyms.map((s) => `${s.source}:${s.name}=${s.value ?? 'null'}`).join(', ');
            lines.push(`  ${e.name}=${value ?? 'null'} sensitive=${e.isSensitive} synonyms={${synonyms}}`);
          }
        }
        await out(lines.map((l) => `${l}\n`).join(''));
        return;
      }
      if (entityName === undefined) throw new UsageError('an entity name must be specified with --alter');
      const adds = keyValues(strs(values, 'add-config'), 'config');
      const deletes = strs(values, 'delete-config').flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
      if (adds.size === 0 && deletes.length === 0) throw new UsageError('At least one of --add-config or --delete-config must be specified with --alter');
      await admin.incrementalAlterConfigs([
        {
          type: entity.type,
          name: entityName,
          changes: [...[...adds].map(([name, value]) => ({ name, op: 'set' as const, value })), ...deletes.map((name) => ({ name, op: 'delete' as const }))],
        },
      ]);
      const label = entity.type === 'broker' && entityName === '' ? 'default broker' : `${entity.singular} ${entityName}`;
      await out(`Completed updating config for ${label}.\n`);
    } catch (err) {
      if (err instanceof KafkaClientError) throw new ToolError(`Error while executing config command with args '${argv.join(' ')}'\n${err.message}`);
      throw err;
    } finally {
      await admin.close();
    }
  });
}

/** Java's exception names for the errors a SCRAM describe answers with, as kafka-configs prints them. */
const EXCEPTION_NAMES: Readonly<Record<number, string>> = { 92: 'DuplicateResourceException', 33: 'UnsupportedSaslMechanismException' };

/** --entity-type users: SCRAM credentials (quotas are not implemented). */
async function userConfigs(values: Parameters<typeof flag>[0], user: string | undefined, argv: string[]): Promise<void> {
  if (flag(values, 'entity-default')) throw new UsageError('--entity-default for users sets client quotas, which Tributary does not implement yet');
  const alterations: ScramCredentialAlteration[] = [];
  if (flag(values, 'alter')) {
    if (user === undefined) throw new UsageError('an entity name must be specified with --alter');
    const adds = keyValues(strs(values, 'add-config'), 'config');
    const deletes = strs(values, 'delete-config').flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
    if (adds.size === 0 && deletes.length === 0) throw new UsageError('At least one of --add-config or --delete-config must be specified with --alter');
    const unknown = [...adds.keys(), ...deletes].filter((k) => scramMechanismByName(k) === undefined || k !== k.toUpperCase());
    if (unknown.length > 0) throw new UsageError(`Only SCRAM credential configs (SCRAM-SHA-256, SCRAM-SHA-512) can be changed for 'users' (client quotas are not implemented). Unexpected config names: ${unknown.join(',')}`);
    for (const name of deletes) alterations.push({ user, mechanism: name as ScramMechanismName, delete: true });
    for (const [name, value] of adds) {
      const m = /^(?:iterations=(-?[0-9]*),)?password=(.*)$/s.exec(value);
      if (m === null) throw new UsageError(`Invalid credential property ${name}=${value}: expected [iterations=N,]password=PASSWORD`);
      const mechanism = scramMechanismByName(name)!;
      const iterations = m[1] === undefined || m[1] === '' || m[1] === '-1' ? 4096 : Number(m[1]);
      if (iterations < mechanism.minIterations) throw new UsageError(`Iterations ${iterations} is less than the minimum ${mechanism.minIterations} required for ${mechanism.name}`);
      alterations.push({ user, mechanism: name as ScramMechanismName, iterations, password: m[2]! });
    }
  }
  const admin = new Admin(clientOptions(values));
  try {
    if (flag(values, 'alter')) {
      // One request per mechanism: Kafka's controller refuses a user named twice in one request
      // (DUPLICATE_RESOURCE), which the documented two-mechanism --add-config would be.
      for (const a of alterations) {
        const failure = (await admin.alterUserScramCredentials([a])).get(a.user);
        if (failure !== undefined && failure !== null) throw failure;
      }
      await out(`Completed updating config for user ${user}.\n`);
      return;
    }
    const described = await admin.describeUserScramCredentials(user === undefined ? undefined : [user]);
    // As kafka-configs: a user without credentials prints nothing.
    await out(
      described
        .filter((d) => d.error?.code !== ErrorCode.RESOURCE_NOT_FOUND)
        .map((d) =>
          d.error === null
            ? `SCRAM credential configs for user-principal '${d.user}' are ${d.credentials.map((c) => `${c.mechanism}=iterations=${c.iterations}`).join(', ')}\n`
            : `Error retrieving SCRAM credential configs for user-principal '${d.user}': ${EXCEPTION_NAMES[d.error.code] ?? 'KafkaException'}: ${d.error.detail ?? d.error.errorName}\n`,
        )
        .join(''),
    );
  } catch (err) {
    if (err instanceof KafkaClientError) throw new ToolError(`Error while executing config command with args '${argv.join(' ')}'\n${err.message}`);
    throw err;
  } finally {
    await admin.close();
  }
}
