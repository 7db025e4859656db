import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { chooseFixedVersion, splitFixedVersions } from './fixed-version.js';
import type { OsFamily } from './types.js';

describe('splitFixedVersions()', () => {
  const rows: readonly (readonly [string | undefined, string[]])[] = [
    [undefined, []],
    ['', []],
    ['3.0.15-1~deb12u1', ['3.0.15-1~deb12u1']],
    ['2.2.5, 2.3.2', ['2.2.5', '2.3.2']],
    ['6.0.1,5.0.1 ,, 4.1.1', ['6.0.1', '5.0.1', '4.1.1']],
    ['>= 3.1.0, >= 2.1.3, < 3.0.0', []],
    ['>=4.17.11', []],
  ];
  for (const [field, want] of rows) {
    it(`splits ${JSON.stringify(field)} into ${JSON.stringify(want)}`, () => {
      assert.deepEqual(splitFixedVersions(field), want);
    });
  }
});

describe('chooseFixedVersion()', () => {
  const rows: readonly (readonly [OsFamily, string, string[], string | undefined])[] = [
    ['debian', '3.0.11-1~deb12u2', ['3.0.15-1~deb12u1'], '3.0.15-1~deb12u1'],
    ['debian', '5.36.0-7+deb12u1', ['5.32.1-4+deb11u4', '5.36.0-7+deb12u2'], '5.36.0-7+deb12u2'],
    ['debian', '1.0-1', ['1.0-3', '1.0-2', '2.0-1'], '1.0-2'],
    ['debian', '2.0-1', ['1.0-3', '1.5-1'], '1.5-1'],
    ['debian', '1.0-1', [], undefined],
    ['alpine', '3.1.4-r5', ['3.1.5-r0', '3.1.4-r6'], '3.1.4-r6'],
    ['rocky', '1:3.0.7-24.el9', ['1:3.0.7-27.el9', '3.0.8-1.el9'], '1:3.0.7-27.el9'],
    ['rocky', '2.9.13-5.el9_3', ['0:2.9.13-5.el9_3', '0:2.9.13-6.el9_4'], '0:2.9.13-6.el9_4'],
  ];
  for (const [family, installed, fixed, want] of rows) {
    const name = `chooses ${JSON.stringify(want)} for ${family} "${installed}"`;
    it(`${name} from ${JSON.stringify(fixed)}`, () => {
      assert.equal(chooseFixedVersion(family, installed, fixed), want);
    });
  }
});
