import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { compareDebianVersions } from './version.js';

const cases: [string, string, number][] = [
  ['1.0', '1.0', 0],
  ['1.0', '1.1', -1],
  ['1:1.0', '2.0', 1],
  ['0:1.0', '1.0', 0],
  ['1.0~rc1', '1.0', -1],
  ['1.0~~', '1.0~', -1],
  ['1.0-1', '1.0-1+deb12u1', -1],
  ['3.0.11-1~deb12u2', '3.0.15-1~deb12u1', -1],
  ['3.0.15-1~deb12u1', '3.0.15-1', -1],
  ['2.36-9+deb12u4', '2.36-9+deb12u10', -1],
  ['1.2.3a', '1.2.3', 1],
  ['1.2.3+b1', '1.2.3', 1],
  ['1.001', '1.1', 0],
  ['1.0-0', '1.0', 0],
  ['a', 'B', 1],
  ['1.0.', '1.0', 1],
  ['7.88.1-10+deb12u5', '7.88.1-10+deb12u12', -1],
];

test('compareDebianVersions orders versions as dpkg does', () => {
  for (const [a, b, want] of cases) {
    assert.equal(Math.sign(compareDebianVersions(a, b)), want, `${a} vs ${b}`);
    assert.equal(Math.sign(compareDebianVersions(b, a)), want === 0 ? 0 : -want, `${b} vs ${a}`);
  }
});

test('compareDebianVersions agrees with dpkg --compare-versions when dpkg is present', (t) => {
  if (spawnSync('dpkg', ['--version']).status !== 0) return t.skip('dpkg is not installed');
  for (const [a, b] of cases) {
    const lt = spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status === 0;
    const eq = spawnSync('dpkg', ['--compare-versions', a, 'eq', b]).status === 0;
    const want = lt ? -1 : eq ? 0 : 1;
    assert.equal(Math.sign(compareDebianVersions(a, b)), want, `${a} vs ${b}`);
  }
});
