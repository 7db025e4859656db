import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import type { UpdateManifest } from '../report/index.js';
import { fixedPackages } from './fixed-packages.js';

const manifest: UpdateManifest = {
  source: 'scan.json',
  scanner: 'trivy',
  os: { family: 'debian', version: '12.5' },
  platform: { os: 'linux', architecture: 'arm64' },
  updates: [
    {
      name: 'openssl',
      installedVersion: '3.0.11-1~deb12u2',
      fixedVersion: '3.0.15-1~deb12u1',
      vulnerabilityIds: ['CVE-2024-2511', 'CVE-2024-5535'],
      arch: 'arm64',
    },
    {
      name: 'libc6',
      installedVersion: '2.36-9+deb12u4',
      fixedVersion: '2.36-9+deb12u7',
      vulnerabilityIds: ['CVE-2024-2961'],
    },
    {
      name: 'perl-base',
      installedVersion: '5.36.0-7+deb12u1',
      fixedVersion: '5.36.0-7+deb12u2',
      vulnerabilityIds: ['CVE-2023-47038'],
    },
  ],
  unfixable: [],
  languagePackages: [],
};

describe('fixedPackages()', () => {
  it('claims only packages brought to at least the required version', () => {
    const got = fixedPackages(manifest, [
      {
        name: 'openssl',
        arch: 'arm64',
        fromVersion: '3.0.11-1~deb12u2',
        toVersion: '3.0.17-1~deb12u2',
      },
      { name: 'libc6', arch: 'arm64', fromVersion: '2.36-9+deb12u4', toVersion: '2.36-9+deb12u6' },
      { name: 'libssl3', arch: 'arm64', fromVersion: undefined, toVersion: '3.0.17-1~deb12u2' },
    ]);
    assert.deepEqual(got, [
      {
        name: 'openssl',
        installedVersion: '3.0.17-1~deb12u2',
        arch: 'arm64',
        vulnerabilityIds: ['CVE-2024-2511', 'CVE-2024-5535'],
      },
    ]);
  });

  it('claims nothing when nothing was updated', () => {
    assert.deepEqual(fixedPackages(manifest, []), []);
  });
});
