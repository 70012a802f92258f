// Feature flags (KIP-584, KIP-778, KIP-1022): the levels this node supports (the rules for
// changing the finalized ones are the controller's, controller/features.ts). Finalized levels live in the metadata log as FeatureLevelRecords
// (delta.ts replays them), so they survive restarts like any metadata.
//
// The features are Kafka 4.2's production features. Each supports the levels Tributary
// implements, so a client that reads the finalized levels from ApiVersions turns on exactly what
// works here:
// - metadata.version 3.3-IV3 (7) to 4.2-IV1 (29), Kafka 4.2's range; a new node finalizes 4.2-IV1.
// - group.version 0-1: level 1 is the consumer group protocol (KIP-848), finalized by default.
// - kraft.version 0: a single static voter (dynamic quorums, KIP-853, are not implemented).
// - transaction.version, eligible.leader.replicas.version, share.version, streams.version 0:
//   no transactions, ELR, share groups or streams groups yet, so clients keep to the protocols
//   without them (a producer caps Produce at v11 and EndTxn at v4 when transaction.version < 2).
// A level of 0 is "not finalized": the feature is then absent from the finalized set, as in Kafka.

export const METADATA_VERSION = 'metadata.version';

export interface FeatureRange {
  readonly min: number;
  readonly max: number;
}

/** Kafka's metadata versions by feature level, with whether each one changed the metadata format
 * (a downgrade across such a version could lose metadata). */
export const METADATA_VERSIONS: readonly { level: number; name: string; metadataChanged: boolean }[] = [
  [7, '3.3-IV3', true],
  [8, '3.4-IV0', true],
  [9, '3.5-IV0', false],
  [10, '3.5-IV1', false],
  [11, '3.5-IV2', true],
  [12, '3.6-IV0', false],
  [13, '3.6-IV1', true],
  [14, '3.6-IV2', true],
  [15, '3.7-IV0', true],
  [16, '3.7-IV1', false],
  [17, '3.7-IV2', true],
  [18, '3.7-IV3', false],
  [19, '3.7-IV4', false],
  [20, '3.8-IV0', false],
  [21, '3.9-IV0', false],
  [22, '4.0-IV0', false],
  [23, '4.0-IV1', true],
  [24, '4.0-IV2', false],
  [25, '4.0-IV3', false],
  [26, '4.1-IV0', false],
  [27, '4.1-IV1', false],
  [28, '4.2-IV0', false],
  [29, '4.2-IV1', false],
].map(([level, name, metadataChanged]) => ({ level: level as number, name: name as string, metadataChanged: metadataChanged as boolean }));

export const LATEST_METADATA_VERSION = METADATA_VERSIONS[METADATA_VERSIONS.length - 1]!.level;

/** What this node supports, by feature name (sorted, as kafka-features lists them). */
export const SUPPORTED_FEATURES: ReadonlyMap<string, FeatureRange> = new Map([
  ['eligible.leader.replicas.version', { min: 0, max: 0 }],
  ['group.version', { min: 0, max: 1 }],
  ['kraft.version', { min: 0, max: 0 }],
  [METADATA_VERSION, { min: METADATA_VERSIONS[0]!.level, max: LATEST_METADATA_VERSION }],
  ['share.version', { min: 0, max: 0 }],
  ['streams.version', { min: 0, max: 0 }],
  ['transaction.version', { min: 0, max: 0 }],
]);

/** The levels a new cluster starts with (what `kafka-storage format` writes for a 4.2 release,
 * within what Tributary supports). Level 0 features are left out: 0 is "not finalized". */
export const BOOTSTRAP_FEATURES: ReadonlyMap<string, number> = new Map([
  [METADATA_VERSION, LATEST_METADATA_VERSION],
  ['group.version', 1],
]);

/** Kafka's name of a metadata.version level (e.g. 29 -> 4.2-IV1), or null for an unknown one. */
export function metadataVersionName(level: number): string | null {
  return METADATA_VERSIONS.find((v) => v.level === level)?.name ?? null;
}

/** The level of a metadata.version name: "4.2-IV1", or a release "4.2" meaning its latest IV. */
export function metadataVersionLevel(name: string): number | null {
  const exact = METADATA_VERSIONS.find((v) => v.name === name);
  if (exact !== undefined) return exact.level;
  const ofRelease = METADATA_VERSIONS.filter((v) => v.name.startsWith(`${name}-IV`));
  return ofRelease.length === 0 ? null : ofRelease[ofRelease.length - 1]!.level;
}

export function metadataVersionNames(): string[] {
  return METADATA_VERSIONS.map((v) => v.name);
}

/** UpdateFeatures' upgrade types (v1+; v0's AllowDowngrade maps to the first two). */
export const UpgradeType = { UPGRADE: 1, SAFE_DOWNGRADE: 2, UNSAFE_DOWNGRADE: 3 } as const;

export interface FeatureUpdate {
  feature: string;
  level: number;
  upgradeType: number;
}

