import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import type { OsFamily } from '../report/types.js';
import { compareVersions, packageManagerFor } from './version.js';

describe('compareVersions()', () => {
  const rows: readonly (readonly [OsFamily | 'dpkg' | 'apk' | 'rpm', string, string, number])[] = [
    ['debian', '3.0.11-1~deb12u2', '3.0.15-1~deb12u1', -1],
    ['ubuntu', '1:2.36.1-8', '2.37-1', 1],
    ['dpkg', '1.0~rc1', '1.0', -1],
    ['alpine', '3.1.4-r5', '3.1.4-r10', -1],
    ['wolfi', '1.0_rc1-r0', '1.0-r0', -1],
    ['apk', '1.0-r1', '1.0_p1', -1],
    ['redhat', '1:1.0.2k-19.el7', '1.1.1k-5.el8_5', 1],
    ['cbl-mariner', '2.35-7.cm2', '2.35-10.cm2', -1],
    ['rpm', '1.0^git1', '1.0', 1],
  ];
  for (const [family, a, b, want] of rows) {
    it(`orders "${a}" against "${b}" by the rules of ${family}`, () => {
      assert.equal(Math.sign(compareVersions(family, a, b)), want);
    });
  }

  it('throws RangeError when the family is unknown', () => {
    assert.throws(() => compareVersions('plan9' as OsFamily, '1', '2'), RangeError);
  });
});

describe('packageManagerFor()', () => {
  it('maps each family to its package manager', () => {
    assert.equal(packageManagerFor('debian'), 'dpkg');
    assert.equal(packageManagerFor('chainguard'), 'apk');
    assert.equal(packageManagerFor('amazon'), 'rpm');
    assert.equal(packageManagerFor('azurelinux'), 'rpm');
  });
});
