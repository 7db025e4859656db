import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { compareRpmVersions, parseRpmVersion } from './version.js';

/** `[a, b, expected sign of compare(a, b)]`. */
const cases: readonly (readonly [string, string, -1 | 0 | 1])[] = [
  ['1.0', '1.0', 0],
  ['1.0', '2.0', -1],
  ['2.0.1', '2.0.1', 0],
  ['2.0', '2.0.1', -1],
  ['2.0.1a', '2.0.1a', 0],
  ['2.0.1a', '2.0.1', 1],
  ['5.5p1', '5.5p2', -1],
  ['5.5p10', '5.5p1', 1],
  ['10xyz', '10.1xyz', -1],
  ['xyz10', 'xyz10.1', -1],
  ['xyz.4', '8', -1],
  ['xyz.4', '2', -1],
  ['5.5p2', '5.6p1', -1],
  ['6.0', '6.0.rc1', -1],
  ['10a2', '10b2', -1],
  ['1.0aa', '1.0a', 1],
  ['10.0001', '10.1', 0],
  ['10.0001', '10.0039', -1],
  ['4.999.9', '5.0', -1],
  ['20101121', '20101122', -1],
  ['2_0', '2_0', 0],
  ['2.0', '2_0', 0],
  ['a', 'a', 0],
  ['a+', 'a_', 0],
  ['+', '_', 0],
  ['1.0~rc1', '1.0', -1],
  ['1.0~rc1', '1.0~rc1', 0],
  ['1.0~rc1', '1.0~rc2', -1],
  ['1.0~rc1~git123', '1.0~rc1', -1],
  ['1.0^', '1.0', 1],
  ['1.0^git1', '1.0', 1],
  ['1.0^git1', '1.01', -1],
  ['1.0^git1', '1.0^git2', -1],
  ['1.0^git1~pre', '1.0^git1', -1],
  ['1.0^20160101', '1.0.1', -1],
  ['1.0~rc1^git1', '1.0~rc1', 1],
  ['1.1.1k-5.el8_5', '1.1.1k-4.el8', 1],
  ['1:1.0.2k-16.el7', '1:1.0.2k-19.el7', -1],
  ['1:1.0.2k-19.el7', '1.1.1k-5.el8_5', 1],
  ['0:0.7-21.el8_9.1', '0.7-20.el8', 1],
  ['0:0.7-20.el8', '0.7-20.el8', 0],
  ['2.35-7.cm2', '2.35-6.cm2', 1],
  ['7.61.1-9.amzn2.0.1', '7.61.1-22.amzn2.0.1', -1],
  ['3.0.7-27.el9', '3.0.7-27.el9_1', -1],
  ['1.2', '1.2-3', -1],
  ['1:1.2', '1.3', 1],
];

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

describe('compareRpmVersions()', () => {
  for (const [a, b, want] of cases) {
    it(`orders "${a}" ${['<', '=', '>'][want + 1]} "${b}"`, () => {
      assert.equal(sign(compareRpmVersions(a, b)), want);
      assert.equal(sign(compareRpmVersions(b, a)), sign(-want));
    });
  }

  it('agrees with rpm.vercmp on every row when rpm is installed', (t) => {
    if (!existsSync('/usr/bin/rpm')) {
      t.skip('rpm is not installed (apt-get install rpm)');
      return;
    }
    const calls = cases.map(([a, b]) => `print(rpm.vercmp("${a}", "${b}") .. " ")`).join(' ');
    const out = execFileSync('rpm', ['--eval', `%{lua: ${calls}}`], { encoding: 'utf8' });
    const got = out.trim().split(/\s+/).map(Number);
    assert.deepEqual(
      got,
      cases.map(([, , want]) => want),
    );
  });
});

describe('parseRpmVersion()', () => {
  it('splits epoch, version and release when all are present', () => {
    assert.deepEqual(parseRpmVersion('1:1.1.1k-5.el8_5'), {
      epoch: '1',
      version: '1.1.1k',
      release: '5.el8_5',
    });
  });

  it('leaves epoch and release undefined when absent', () => {
    assert.deepEqual(parseRpmVersion('3.0.7'), {
      epoch: undefined,
      version: '3.0.7',
      release: undefined,
    });
  });

  it('throws RangeError when the version is empty', () => {
    assert.throws(() => parseRpmVersion(' '), RangeError);
  });
});
