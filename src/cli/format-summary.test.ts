import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { PatchSummary, PlatformSummary } from '../patch/index.js';
import { formatSummary } from './format-summary.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;

function platform(fields: Partial<PlatformSummary>): PlatformSummary {
  return {
    platform: { os: 'linux', architecture: 'amd64' },
    status: 'up to date',
    sourceDigest: d('0'),
    digest: d('0'),
    updated: [],
    failed: [],
    fixedVulnerabilities: [],
    scriptsNotRun: [],
    ...fields,
  };
}

function summary(platforms: PlatformSummary[], dropped: string[] = []): PatchSummary {
  return {
    source: 'app:1',
    target: undefined,
    digest: undefined,
    reference: undefined,
    platforms,
    upToDate: false,
    pushed: false,
    ociDir: undefined,
    loaded: [],
    commands: [],
    droppedAttestations: dropped,
    vexFile: undefined,
  };
}

describe('formatSummary()', () => {
  it('prints an aligned row per platform, then notes, scripts not run and attestations', () => {
    const lines = formatSummary(
      summary(
        [
          platform({
            status: 'patched',
            digest: d('a'),
            updated: [
              { name: 'libssl3', arch: 'amd64', fromVersion: '3.0.1', toVersion: '3.0.2' },
              { name: 'openssl', arch: 'amd64', fromVersion: '3.0.1', toVersion: '3.0.2' },
            ],
            scriptsNotRun: [{ name: 'openssl', scripts: ['postinst', 'triggers'] }],
          }),
          platform({ platform: { os: 'linux', architecture: 'arm', variant: 'v7' } }),
          platform({
            platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
            status: 'failed',
            digest: undefined,
            message: 'patching linux/arm64/v8: no version >= 3.0.2 in the repositories',
          }),
        ],
        [d('c')],
      ),
    );
    assert.deepEqual(lines, [
      'PLATFORM        STATUS      UPDATED  MANIFEST',
      `linux/amd64     patched     2        ${d('a')}`,
      `linux/arm/v7    up to date  -        ${d('0')}`,
      'linux/arm64/v8  failed      -        -',
      'linux/arm64/v8: patching linux/arm64/v8: no version >= 3.0.2 in the repositories',
      'maintainer scripts not run (the packages were unpacked only):',
      '  linux/amd64: openssl (postinst, triggers)',
      'attestation manifests left out, their images were replaced (1):',
      `  ${d('c')}`,
    ]);
  });

  it('names packages a patched platform could not update under --ignore-errors', () => {
    const lines = formatSummary(
      summary([
        platform({
          status: 'patched',
          digest: d('b'),
          updated: [{ name: 'zlib1g', arch: 'amd64', fromVersion: '1', toVersion: '2' }],
          failed: [
            {
              name: 'curl',
              fixedVersion: '9',
              reason: 'no fixed version available: newest is "8"',
            },
          ],
        }),
      ]),
    );
    assert.equal(
      lines.at(-1),
      'linux/amd64: "curl" not updated: no fixed version available: newest is "8"',
    );
  });

  it('prints nothing for a run without platforms', () => {
    assert.deepEqual(formatSummary(summary([])), []);
  });
});
