import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Descriptor, Platform } from '../image/types.js';
import type { Logger } from '../log.js';
import type { UpdateManifest } from '../report/types.js';
import { planPlatforms } from './plan-platforms.js';

const oci = 'application/vnd.oci.image.manifest.v1+json';
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const amd64: Platform = { os: 'linux', architecture: 'amd64' };
const arm64: Platform = { os: 'linux', architecture: 'arm64' };
const armv7: Platform = { os: 'linux', architecture: 'arm', variant: 'v7' };

const entries: Descriptor[] = [
  { mediaType: oci, digest: digest('a'), size: 1, platform: amd64 },
  { mediaType: oci, digest: digest('b'), size: 1, platform: arm64 },
  { mediaType: oci, digest: digest('c'), size: 1, platform: armv7 },
  {
    mediaType: oci,
    digest: digest('d'),
    size: 1,
    platform: { os: 'unknown', architecture: 'unknown' },
    annotations: {
      'vnd.docker.reference.type': 'attestation-manifest',
      'vnd.docker.reference.digest': digest('a'),
    },
  },
];

function report(source: string, platform: Platform, names: string[]): UpdateManifest {
  return {
    source,
    scanner: 'trivy',
    os: { family: 'debian', version: '12.15' },
    platform,
    updates: names.map((name) => ({
      name,
      installedVersion: '1',
      fixedVersion: '2',
      vulnerabilityIds: [`CVE-${name}`],
    })),
    unfixable: [],
    languagePackages: [],
  };
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn: (m) => warnings.push(m) };
}

test('planPlatforms() patches platforms with a report and keeps the others in order', () => {
  const logger = recordingLogger();
  const plans = planPlatforms(
    entries,
    {
      kind: 'reports',
      reports: [
        report('amd64.json', amd64, ['openssl']),
        report('arm64.json', { ...arm64, variant: 'v8' }, []),
        report('s390x.json', { os: 'linux', architecture: 's390x' }, ['openssl']),
      ],
    },
    logger,
  );
  assert.deepEqual(
    plans.map((p) => [p.descriptor.digest, p.action, p.action === 'keep' ? p.reason : '']),
    [
      [digest('a'), 'patch', ''],
      [digest('b'), 'up to date', ''],
      [digest('c'), 'keep', 'no report'],
      [digest('d'), 'keep', 'attestation'],
    ],
  );
  const first = plans[0];
  assert.ok(first?.action === 'patch' && first.request.kind === 'packages');
  assert.deepEqual(first.request.packages, [{ name: 'openssl', fixedVersion: '2' }]);
  assert.equal(logger.warnings.length, 1);
  assert.match(logger.warnings[0] ?? '', /s390x/);
});

test('planPlatforms() updates every platform, or the selected ones, without reports', () => {
  const all = planPlatforms(entries, { kind: 'all' }, recordingLogger());
  assert.deepEqual(
    all.map((p) => p.action),
    ['patch', 'patch', 'patch', 'keep'],
  );
  const logger = recordingLogger();
  const some = planPlatforms(
    entries,
    { kind: 'all', platforms: [armv7, { os: 'linux', architecture: '386' }] },
    logger,
  );
  assert.deepEqual(
    some.map((p) => p.action),
    ['keep', 'keep', 'patch', 'keep'],
  );
  assert.equal(logger.warnings.length, 1);
});
