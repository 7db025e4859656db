import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { isCopaError } from '../errors.js';
import { buildUpdateManifest, type OsFinding } from './build-update-manifest.js';

const base = { source: 'scan.json', scanner: 'trivy' } as const;
const debian = { family: 'debian', version: '12.5' } as const;

function finding(name: string, fixed: string[], id: string, installed = '1.0-1'): OsFinding {
  return { name, installedVersion: installed, fixedVersions: fixed, vulnerabilityId: id };
}

describe('buildUpdateManifest()', () => {
  it('gives the same manifest whatever the order of the findings', () => {
    const findings = [
      finding('zlib1g', ['1.0-2'], 'CVE-3'),
      finding('libc6', ['1.0-3'], 'CVE-2'),
      finding('libc6', ['1.0-2'], 'CVE-1'),
      finding('tar', [], 'CVE-9'),
      finding('tar', [], 'CVE-8'),
    ];
    const a = buildUpdateManifest({ ...base, os: debian, findings });
    const b = buildUpdateManifest({ ...base, os: debian, findings: [...findings].reverse() });
    assert.deepEqual(a, b);
    assert.deepEqual(
      a.updates.map((u) => [u.name, u.fixedVersion, u.vulnerabilityIds.join(' ')]),
      [
        ['libc6', '1.0-3', 'CVE-1 CVE-2'],
        ['zlib1g', '1.0-2', 'CVE-3'],
      ],
    );
    assert.deepEqual(
      a.unfixable.map((f) => f.vulnerabilityId),
      ['CVE-8', 'CVE-9'],
    );
  });

  it('uses the family version order to pick the highest required version', () => {
    const findings = [
      finding('busybox', ['1.36.1-r9'], 'CVE-1', '1.36.1-r2'),
      finding('busybox', ['1.36.1-r17'], 'CVE-2', '1.36.1-r2'),
    ];
    const m = buildUpdateManifest({
      ...base,
      os: { family: 'alpine', version: '3.19.1' },
      findings,
    });
    assert.equal(m.updates[0]?.fixedVersion, '1.36.1-r17');
  });

  it('throws REPORT_INVALID when a version cannot be ordered', () => {
    assert.throws(
      () =>
        buildUpdateManifest({ ...base, os: debian, findings: [finding('x', ['1.0-2'], 'C', '')] }),
      (err) => isCopaError(err, 'REPORT_INVALID') && err.message.includes('"x"'),
    );
  });

  it('throws REPORT_INVALID when a finding has no package name', () => {
    assert.throws(
      () => buildUpdateManifest({ ...base, os: debian, findings: [finding('', ['1.0-2'], 'C')] }),
      (err) => isCopaError(err, 'REPORT_INVALID'),
    );
  });
});
