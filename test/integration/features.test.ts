// Feature flags against a broker process: ApiVersions v3+ reports the supported and finalized
// levels as a Kafka 4.2 broker does for what Tributary implements; UpdateFeatures v0-2 changes
// them within the supported range, all or nothing, and the levels survive a restart (they are
// FeatureLevelRecords in the metadata log); `tributary features` prints kafka-features.sh's
// lines and exit codes; the TypeScript Admin reads and changes them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Admin } from '../../src/client/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiVersionsRequest } from '../../src/protocol/messages/ApiVersionsRequest.js';
import { ApiVersionsResponse } from '../../src/protocol/messages/ApiVersionsResponse.js';
import { UpdateFeaturesRequest } from '../../src/protocol/messages/UpdateFeaturesRequest.js';
import { UpdateFeaturesResponse } from '../../src/protocol/messages/UpdateFeaturesResponse.js';
import { startBroker, tributaryBin, type BrokerProcess } from '../helpers/broker-process.js';
import { run, type RunResult } from '../helpers/clients.js';
import { wirePool } from './admin-wire.js';

const SUPPORTED = [
  ['eligible.leader.replicas.version', 0, 0],
  ['group.version', 0, 1],
  ['kraft.version', 0, 0],
  ['metadata.version', 7, 29],
  ['share.version', 0, 0],
  ['streams.version', 0, 0],
  ['transaction.version', 0, 0],
];

describe('feature flags', () => {
  let broker: BrokerProcess;
  const wires = wirePool(() => broker.bootstrap);
  const wire = () => wires.open();
  const apiVersions = async (version: number) =>
    (await wire()).send(ApiVersionsRequest, ApiVersionsResponse, version, { clientSoftwareName: version >= 3 ? 'test' : '', clientSoftwareVersion: version >= 3 ? '1' : '' });
  const finalized = async () => Object.fromEntries((await apiVersions(4)).finalizedFeatures.map((f) => [f.name, [f.minVersionLevel, f.maxVersionLevel]]));
  const tool = (args: string[]): Promise<RunResult> => run(process.execPath, [tributaryBin, 'features', '--bootstrap-server', broker.bootstrap, ...args], { timeoutMs: 30_000 });

  before(async () => {
    broker = await startBroker();
  });
  after(async () => {
    wires.closeAll();
    await broker.destroy();
  });

  it('ApiVersions v3+ lists the supported features and the finalized levels of a new node; v2 has none', async () => {
    const v3 = await apiVersions(3);
    assert.deepEqual(v3.supportedFeatures.map((f) => [f.name, f.minVersion, f.maxVersion]), SUPPORTED);
    assert.deepEqual(
      v3.finalizedFeatures.map((f) => [f.name, f.minVersionLevel, f.maxVersionLevel]),
      [
        ['group.version', 1, 1],
        ['metadata.version', 29, 29],
      ],
      'metadata.version 4.2-IV1 and the consumer group protocol; transactions, share and streams groups are not finalized',
    );
    assert.ok(v3.finalizedFeaturesEpoch >= 0n, `epoch ${v3.finalizedFeaturesEpoch}`);
    assert.equal(v3.zkMigrationReady, false);
    const v2 = await apiVersions(2);
    assert.deepEqual([v2.supportedFeatures, v2.finalizedFeatures, v2.finalizedFeaturesEpoch], [[], [], -1n]);
  });

  it('UpdateFeatures v0-2: validate only, downgrade rules, all-or-nothing, results per version; levels survive a restart', async () => {
    let w = await wire();
    const send = (version: number, updates: { feature: string; level: number; upgradeType?: number; allowDowngrade?: boolean }[], validateOnly = false) =>
      w.send(UpdateFeaturesRequest, UpdateFeaturesResponse, version, {
        timeoutMs: 5000,
        validateOnly,
        featureUpdates: updates.map((u) => ({ feature: u.feature, maxVersionLevel: u.level, allowDowngrade: u.allowDowngrade ?? false, upgradeType: u.upgradeType ?? 1 })),
      });
    const epochBefore = (await apiVersions(3)).finalizedFeaturesEpoch;

    const dry = await send(1, [{ feature: 'group.version', level: 0, upgradeType: 2 }], true);
    assert.deepEqual([dry.errorCode, dry.results.map((r) => [r.feature, r.errorCode])], [ErrorCode.NONE, [['group.version', ErrorCode.NONE]]]);
    assert.deepEqual(await finalized(), { 'group.version': [1, 1], 'metadata.version': [29, 29] }, 'validateOnly changes nothing');

    const mixed = await send(1, [{ feature: 'group.version', level: 0, upgradeType: 2 }, { feature: 'transaction.version', level: 2 }]);
    const why = 'Invalid update version 2 for feature transaction.version. Local controller 1 does not support this feature.';
    assert.deepEqual([mixed.errorCode, mixed.errorMessage], [ErrorCode.INVALID_UPDATE_VERSION, why]);
    assert.deepEqual(mixed.results.map((r) => [r.feature, r.errorCode, r.errorMessage]), [
      ['group.version', ErrorCode.INVALID_UPDATE_VERSION, why],
      ['transaction.version', ErrorCode.INVALID_UPDATE_VERSION, why],
    ]);
    assert.deepEqual(await finalized(), { 'group.version': [1, 1], 'metadata.version': [29, 29] }, 'nothing applied');

    const noFlag = await send(0, [{ feature: 'group.version', level: 0 }]);
    assert.equal(noFlag.errorCode, ErrorCode.INVALID_UPDATE_VERSION, 'v0 downgrade without AllowDowngrade');
    const v0 = await send(0, [{ feature: 'group.version', level: 0, allowDowngrade: true }]);
    assert.deepEqual([v0.errorCode, v0.results.length], [ErrorCode.NONE, 1]);
    const v2 = await send(2, [{ feature: 'metadata.version', level: 25, upgradeType: 2 }]);
    assert.deepEqual([v2.errorCode, v2.results], [ErrorCode.NONE, []], 'v2 has no per-feature results');
    const refused = await send(2, [{ feature: 'metadata.version', level: 21, upgradeType: 2 }]);
    assert.deepEqual(
      [refused.errorCode, refused.errorMessage],
      [ErrorCode.INVALID_UPDATE_VERSION, 'Invalid update version 21 for feature metadata.version. Refusing to perform the requested downgrade because it might delete metadata information.'],
    );
    assert.deepEqual(await finalized(), { 'metadata.version': [25, 25] }, 'group.version 0 is not finalized');
    assert.ok((await apiVersions(3)).finalizedFeaturesEpoch > epochBefore, 'the epoch moved');

    await broker.stop();
    await broker.start();
    assert.deepEqual(await finalized(), { 'metadata.version': [25, 25] }, 'the levels survive a restart');
    w = await wire();
    const back = await send(2, [{ feature: 'metadata.version', level: 29 }, { feature: 'group.version', level: 1 }]);
    assert.equal(back.errorCode, ErrorCode.NONE);
    assert.deepEqual(await finalized(), { 'group.version': [1, 1], 'metadata.version': [29, 29] });
  });

  it('tributary features: describe, upgrade, downgrade, disable, dry runs and failures in kafka-features.sh format', async () => {
    const described = await tool(['describe']);
    assert.equal(described.code, 0, described.stderr);
    const epoch = String((await apiVersions(3)).finalizedFeaturesEpoch);
    assert.deepEqual(described.stdout.trimEnd().split('\n'), [
      `Feature: eligible.leader.replicas.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 0\tFinalizedVersionLevel: 0\tEpoch: ${epoch}`,
      `Feature: group.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 1\tFinalizedVersionLevel: 1\tEpoch: ${epoch}`,
      `Feature: kraft.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 0\tFinalizedVersionLevel: 0\tEpoch: ${epoch}`,
      `Feature: metadata.version\tSupportedMinVersion: 3.3-IV3\tSupportedMaxVersion: 4.2-IV1\tFinalizedVersionLevel: 4.2-IV1\tEpoch: ${epoch}`,
      `Feature: share.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 0\tFinalizedVersionLevel: 0\tEpoch: ${epoch}`,
      `Feature: streams.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 0\tFinalizedVersionLevel: 0\tEpoch: ${epoch}`,
      `Feature: transaction.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 0\tFinalizedVersionLevel: 0\tEpoch: ${epoch}`,
    ]);

    const dry = await tool(['downgrade', '--metadata', '4.0-IV3', '--dry-run']);
    assert.deepEqual([dry.code, dry.stdout], [0, ' `metadata` flag is deprecated and may be removed in a future release.\nmetadata.version can be downgraded to 25.\n']);
    const down = await tool(['downgrade', '--metadata', '4.0', '--feature', 'group.version=0']);
    assert.deepEqual([down.code, down.stdout], [0, ' `metadata` flag is deprecated and may be removed in a future release.\ngroup.version was downgraded to 0.\nmetadata.version was downgraded to 25.\n']);
    assert.match((await tool(['describe'])).stdout, /^Feature: metadata.version\tSupportedMinVersion: 3.3-IV3\tSupportedMaxVersion: 4.2-IV1\tFinalizedVersionLevel: 4.0-IV3\t/m);

    const up = await tool(['upgrade', '--feature', 'metadata.version=29', '--feature', 'group.version=1']);
    assert.deepEqual([up.code, up.stdout], [0, 'group.version was upgraded to 1.\nmetadata.version was upgraded to 29.\n']);
    const disabled = await tool(['disable', '--feature', 'group.version']);
    assert.deepEqual([disabled.code, disabled.stdout], [0, 'group.version was disabled.\n']);
    await tool(['upgrade', '--feature', 'group.version=1']);

    const failed = await tool(['upgrade', '--feature', 'transaction.version=2']);
    assert.equal(failed.code, 1);
    assert.equal(failed.stdout, 'Could not upgrade transaction.version to 2. Invalid update version 2 for feature transaction.version. Local controller 1 does not support this feature.\n');
    assert.equal(failed.stderr, '1 out of 1 operation(s) failed.\n');
    const dryFail = await tool(['upgrade', '--feature', 'share.version=1', '--dry-run']);
    assert.deepEqual([dryFail.code, dryFail.stdout], [1, 'Can not upgrade share.version to 1. Invalid update version 1 for feature share.version. Local controller 1 does not support this feature.\n']);

    const unknown = await tool(['upgrade', '--metadata', '9.9']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^Unknown metadata.version 9.9. Supported metadata.version are 3.3-IV3, 3.4-IV0, .*, 4.2-IV1\n$/);
    const parse = await tool(['upgrade', '--feature', 'group.version']);
    assert.deepEqual([parse.code, parse.stderr], [1, "Can't parse feature=level string group.version: equals sign not found.\n"]);
    const nothing = await tool(['upgrade']);
    assert.deepEqual([nothing.code, nothing.stderr], [1, 'You must specify at least one feature to upgrade\n']);
    const release = await tool(['upgrade', '--release-version', '4.2']);
    assert.equal(release.code, 1);
    assert.match(release.stderr, /--release-version is not supported/);
    assert.doesNotMatch(release.stderr + unknown.stderr + parse.stderr, /\n\s+at /, 'no stack traces');
  });

  it('Admin.describeFeatures and Admin.updateFeatures', async () => {
    const admin = new Admin({ bootstrapServers: broker.bootstrap });
    try {
      const md = await admin.describeFeatures();
      assert.deepEqual(md.supportedFeatures.get('metadata.version'), { minVersion: 7, maxVersion: 29 });
      assert.deepEqual(md.finalizedFeatures.get('group.version'), { minVersionLevel: 1, maxVersionLevel: 1 });
      assert.equal(md.finalizedFeatures.has('transaction.version'), false);
      assert.equal(typeof md.finalizedFeaturesEpoch, 'bigint');
      const results = await admin.updateFeatures({ 'group.version': { maxVersionLevel: 0, upgradeType: 'safe-downgrade' } }, { validateOnly: true });
      assert.deepEqual([...results], [['group.version', null]]);
      const refused = await admin.updateFeatures({ 'kraft.version': { maxVersionLevel: 1, upgradeType: 'upgrade' } });
      const err = refused.get('kraft.version');
      assert.equal(err?.code, ErrorCode.INVALID_UPDATE_VERSION);
      assert.equal(err?.detail, 'Invalid update version 1 for feature kraft.version. Local controller 1 does not support this feature.');
      assert.deepEqual((await admin.describeFeatures()).finalizedFeatures.get('group.version'), { minVersionLevel: 1, maxVersionLevel: 1 });
    } finally {
      await admin.close();
    }
  });
});
