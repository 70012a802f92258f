// `tributary configs`: kafka-configs.sh --describe / --alter for topics and brokers.
import { Admin, type ConfigResourceType } from '../client/index.js';
import { KafkaClientError } from '../client/errors.js';
import { ToolError, UsageError, clientOptions, flag, keyValues, out, parseToolArgs, runTool, showHelp, str, strs } from './tool-support.js';

const USAGE = `Usage: tributary configs --bootstrap-server HOST:PORT
  --describe --entity-type topics|brokers|groups [--entity-name NAME | --entity-default] [--all]
  --alter --entity-type topics|brokers|groups [--entity-name NAME | --entity-default]
          [--add-config k1=v1,k2=v2] [--delete-config k1,k2]
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
    const entity = ENTITY_TYPES[entityType];
    if (entity === undefined) throw new UsageError(`Invalid entity type ${entityType}, the entity type must be one of topics, brokers, broker-loggers, groups`);
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
