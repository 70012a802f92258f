// `tributary features`: kafka-features.sh. `describe` lists every supported feature with its
// supported range, finalized level and epoch; `upgrade`, `downgrade` and `disable` change
// finalized levels with UpdateFeatures (--feature name=level, repeatable; --metadata VERSION
// for metadata.version; --dry-run validates only; --unsafe for downgrades), printing one line
// per feature and failing when any update failed, with Kafka's wording throughout.
// --release-version (every feature to a release's defaults) needs Kafka's table of defaults per
// release, which Tributary does not carry: it is refused with a message.
import { Admin, type FeatureUpgradeType } from '../client/index.js';
import { METADATA_VERSION, metadataVersionLevel, metadataVersionName, metadataVersionNames } from '../metadata/features.js';
import { ToolError, UsageError, clientOptions, flag, out, parseToolArgs, runTool, showHelp, str, strs, type ParsedValues } from './tool-support.js';

const USAGE = `Usage: tributary features --bootstrap-server HOST:PORT <command> [options]

Commands:
  describe                                   the supported and finalized feature levels
  upgrade   [--metadata VERSION] [--feature NAME=LEVEL]... [--dry-run]
  downgrade [--metadata VERSION] [--feature NAME=LEVEL]... [--unsafe] [--dry-run]
  disable   --feature NAME... [--unsafe] [--dry-run]
`;

const OPTIONS = {
  'bootstrap-controller': { type: 'string' },
  metadata: { type: 'string' },
  feature: { type: 'string', multiple: true },
  'release-version': { type: 'string' },
  'dry-run': { type: 'boolean' },
  unsafe: { type: 'boolean' },
} as const;

function levelToString(feature: string, level: number): string {
  if (feature !== METADATA_VERSION) return String(level);
  return metadataVersionName(level) ?? `UNKNOWN ${level}`;
}

export async function runFeatures(argv: string[]): Promise<void> {
  await runTool('features', USAGE, async () => {
    const { values, positionals } = parseToolArgs(argv, OPTIONS);
    if (showHelp(values, USAGE)) return;
    const command = positionals[0];
    if (command === undefined) throw new UsageError('Missing command: describe, upgrade, downgrade or disable');
    if (positionals.length > 1) throw new UsageError(`Unexpected argument '${positionals[1]}'`);
    // A combined node answers the controller APIs on its broker listener.
    const bootstrapController = str(values, 'bootstrap-controller');
    if (bootstrapController !== undefined && str(values, 'bootstrap-server') !== undefined) throw new UsageError('Specify only one of --bootstrap-server and --bootstrap-controller');
    if (bootstrapController !== undefined) values['bootstrap-server'] = bootstrapController;
    let updates: Map<string, number> | null = null;
    let upgradeType: FeatureUpgradeType = 'upgrade';
    switch (command) {
      case 'describe':
        break;
      case 'upgrade':
        updates = levelsToSet(values, 'upgrade');
        break;
      case 'downgrade':
        updates = levelsToSet(values, 'downgrade');
        upgradeType = flag(values, 'unsafe') ? 'unsafe-downgrade' : 'safe-downgrade';
        break;
      case 'disable':
        updates = new Map();
        for (const feature of strs(values, 'feature')) {
          if (updates.has(feature)) throw new ToolError(`Feature ${feature} was specified more than once.`);
          updates.set(feature, 0);
        }
        upgradeType = flag(values, 'unsafe') ? 'unsafe-downgrade' : 'safe-downgrade';
        break;
      default:
        throw new UsageError(`Unknown command '${command}'`);
    }
    if (updates !== null && updates.size === 0) throw new ToolError(`You must specify at least one feature to ${command}`);
    const admin = new Admin(clientOptions(values));
    try {
      if (updates === null) await describe(admin);
      else await update(admin, command, updates, upgradeType, flag(values, 'dry-run'));
    } finally {
      await admin.close();
    }
  });
}

/** The levels that --metadata and --feature ask for. */
function levelsToSet(values: ParsedValues, op: string): Map<string, number> {
  if (str(values, 'release-version') !== undefined) {
    if (str(values, 'metadata') !== undefined || strs(values, 'feature').length > 0) throw new ToolError('Can not specify `release-version` with other feature flags.');
    throw new ToolError(`--release-version is not supported by tributary features: ${op} with --metadata VERSION and --feature NAME=LEVEL instead.`);
  }
  const updates = new Map<string, number>();
  const metadata = str(values, 'metadata');
  if (metadata !== undefined) {
    process.stdout.write(' `metadata` flag is deprecated and may be removed in a future release.\n');
    const level = metadataVersionLevel(metadata);
    if (level === null) throw new ToolError(`Unknown metadata.version ${metadata}. Supported metadata.version are ${metadataVersionNames().join(', ')}`);
    updates.set(METADATA_VERSION, level);
  }
  for (const item of strs(values, 'feature')) {
    const eq = item.indexOf('=');
    if (eq < 0) throw new ToolError(`Can't parse feature=level string ${item}: equals sign not found.`);
    const name = item.slice(0, eq).trim();
    const levelText = item.slice(eq + 1).trim();
    const level = Number(levelText);
    if (!/^-?\d+$/.test(levelText) || level < -32768 || level > 32767) throw new ToolError(`Can't parse feature=level string ${item}: unable to parse ${levelText} as a short.`);
    if (updates.has(name)) throw new ToolError(`Feature ${name} was specified more than once.`);
    updates.set(name, level);
  }
  return updates;
}

async function describe(admin: Admin): Promise<void> {
  const md = await admin.describeFeatures();
  const epoch = md.finalizedFeaturesEpoch === null ? '-' : String(md.finalizedFeaturesEpoch);
  const lines = [...md.supportedFeatures.keys()].sort().map((name) => {
    const range = md.supportedFeatures.get(name)!;
    const finalized = md.finalizedFeatures.get(name)?.maxVersionLevel ?? 0;
    return `Feature: ${name}\tSupportedMinVersion: ${levelToString(name, range.minVersion)}\tSupportedMaxVersion: ${levelToString(name, range.maxVersion)}\tFinalizedVersionLevel: ${levelToString(name, finalized)}\tEpoch: ${epoch}\n`;
  });
  await out(lines.join(''));
}

async function update(admin: Admin, op: string, updates: Map<string, number>, upgradeType: FeatureUpgradeType, dryRun: boolean): Promise<void> {
  const results = await admin.updateFeatures(Object.fromEntries([...updates].map(([feature, maxVersionLevel]) => [feature, { maxVersionLevel, upgradeType }])), { validateOnly: dryRun });
  let failures = 0;
  const lines: string[] = [];
  for (const feature of [...updates.keys()].sort()) {
    const level = updates.get(feature)!;
    const error = results.get(feature) ?? null;
    if (error !== null) {
      failures++;
      lines.push(`${dryRun ? 'Can not ' : 'Could not '}${op === 'disable' ? `disable ${feature}` : `${op} ${feature} to ${level}`}. ${error.detail ?? error.message}\n`);
    } else {
      lines.push(`${feature}${dryRun ? ' can be ' : ' was '}${op === 'disable' ? 'disabled.' : `${op}d to ${level}.`}\n`);
    }
  }
  await out(lines.join(''));
  if (failures > 0) throw new ToolError(`${failures} out of ${updates.size} operation(s) failed.`);
}
