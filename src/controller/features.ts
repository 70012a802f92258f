// The controller's rules for changing finalized feature levels (UpdateFeatures); the levels this
// node supports are in metadata/features.ts.
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { METADATA_VERSION, METADATA_VERSIONS, SUPPORTED_FEATURES, UpgradeType, type FeatureUpdate } from '../metadata/features.js';

/**
 * Checks `updates` against the supported ranges and the finalized levels; returns the levels to
 * record, in request order. Throws KafkaError(INVALID_UPDATE_VERSION) with Kafka's wording for
 * the first update that is not allowed: the request is applied whole or not at all.
 */
export function planFeatureUpdates(updates: readonly FeatureUpdate[], finalized: ReadonlyMap<string, number>, nodeId: number): { feature: string; level: number }[] {
  const seen = new Set<string>();
  const out: { feature: string; level: number }[] = [];
  for (const u of updates) {
    const invalid = (why: string) => new KafkaError(ErrorCode.INVALID_UPDATE_VERSION, `Invalid update version ${u.level} for feature ${u.feature}. ${why}`);
    if (seen.has(u.feature)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Feature ${u.feature} was specified more than once.`);
    seen.add(u.feature);
    if (u.upgradeType !== UpgradeType.UPGRADE && u.upgradeType !== UpgradeType.SAFE_DOWNGRADE && u.upgradeType !== UpgradeType.UNSAFE_DOWNGRADE) {
      throw invalid('The controller does not support the given upgrade type.');
    }
    if (u.level < 0) throw invalid('A feature version cannot be less than 0.');
    const range = SUPPORTED_FEATURES.get(u.feature) ?? { min: 0, max: 0 };
    if (u.level < range.min || u.level > range.max) {
      throw invalid(range.max === 0 ? `Local controller ${nodeId} does not support this feature.` : `Local controller ${nodeId} only supports versions ${range.min}-${range.max}.`);
    }
    const current = finalized.get(u.feature) ?? 0;
    if (u.level < current && u.upgradeType === UpgradeType.UPGRADE) {
      throw invalid("Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.");
    }
    if (u.level > current && u.upgradeType !== UpgradeType.UPGRADE) throw invalid("Can't downgrade to a newer version.");
    if (u.feature === METADATA_VERSION && u.level < current) {
      const lost = METADATA_VERSIONS.some((v) => v.level > u.level && v.level <= current && v.metadataChanged);
      if (lost && u.upgradeType === UpgradeType.UNSAFE_DOWNGRADE) throw invalid('Unsafe metadata downgrade is not supported in this version.');
      if (lost) throw invalid('Refusing to perform the requested downgrade because it might delete metadata information.');
    }
    out.push({ feature: u.feature, level: u.level });
  }
  return out;
}
