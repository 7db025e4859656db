import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { compareApkVersions, isValidApkVersion } from './version.js';

/** `[a, b, expected sign of compare(a, b)]`. */
const cases: readonly (readonly [string, string, -1 | 0 | 1])[] = [
  ['1.0', '1.0', 0],
  ['1.0', '1.1', -1],
  ['1.10', '1.9', 1],
  ['1.0', '1.0.1', -1],
  ['2.0', '1.99.99', 1],
  ['1.01', '1.1', -1],
  ['1.001', '1.01', -1],
  ['1.0', '1.00', -1],
  ['1.0a', '1.0', 1],
  ['1.0a', '1.0b', -1],
  ['1.0.1', '1.0a', 1],
  ['1.0_alpha', '1.0', -1],
  ['1.0_alpha', '1.0_beta', -1],
  ['1.0_beta', '1.0_pre', -1],
  ['1.0_pre', '1.0_rc', -1],
  ['1.0_rc1', '1.0_rc2', -1],
  ['1.0_rc10', '1.0_rc9', 1],
  ['1.0_rc1', '1.0', -1],
  ['1.0_alpha', '1.0_alpha1', -1],
  ['1.0_p1', '1.0', 1],
  ['1.0_p1', '1.0_p2', -1],
  ['1.0_git20240101', '1.0_p1', -1],
  ['1.0_cvs', '1.0_svn', -1],
  ['1.0_hg', '1.0_git', 1],
  ['1.0-r0', '1.0', 1],
  ['1.0-r1', '1.0-r0', 1],
  ['1.0-r10', '1.0-r9', 1],
  ['1.0-r1', '1.0_p1', -1],
  ['1.0_rc1-r5', '1.0-r0', -1],
  ['1.0.1-r0', '1.0-r9', 1],
  ['3.1.4-r5', '3.1.4-r6', -1],
  ['3.3.2-r1', '3.3.2-r0', 1],
  ['8.2.1-r0', '8.5.0-r0', -1],
  ['1.36.1-r15', '1.36.1-r2', 1],
  ['2.4.7_p20230101-r0', '2.4.7-r0', 1],
  ['1.2.3~abc1-r0', '1.2.3-r0', 1],
  ['1.2.3~abc1-r0', '1.2.3~abc2-r0', -1],
  ['0.1.0_alpha', '0.1.0_alpha', 0],
  ['0.1.0_alpha', '0.1.3_alpha', -1],
  ['0.1.0_alpha2', '0.1.0_alpha', 1],
  ['20240101', '20231231', 1],
  ['1.0-r', '1.0', -1],
];

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

describe('compareApkVersions()', () => {
  for (const [a, b, want] of cases) {
    it(`orders "${a}" ${['<', '=', '>'][want + 1]} "${b}"`, () => {
      assert.equal(sign(compareApkVersions(a, b)), want);
      assert.equal(sign(compareApkVersions(b, a)), sign(-want));
    });
  }
});

describe('isValidApkVersion()', () => {
  const rows: readonly (readonly [string, boolean])[] = [
    ['1.2.3', true],
    ['1.2.3a_rc1_p2-r4', true],
    ['1.2.3~0a1b-r0', true],
    ['', false],
    ['a1.0', false],
    ['1.0-1', false],
    ['1.0_foo', false],
    ['1.0-r1.2', false],
  ];
  for (const [version, valid] of rows) {
    it(`says "${version}" is ${valid ? 'valid' : 'invalid'}`, () => {
      assert.equal(isValidApkVersion(version), valid);
    });
  }
});
