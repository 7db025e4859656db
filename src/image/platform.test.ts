import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isCopaError } from '../errors.js';
import {
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  parsePlatform,
  platformMatches,
  platformsEqual,
  tryParsePlatform,
} from './platform.js';

describe('parsePlatform()', () => {
  const rows: [string, string, object][] = [
    ['os and arch', 'linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['with variant', 'linux/arm/v7', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['arch alone means linux', 'arm64', { os: 'linux', architecture: 'arm64' }],
    ['upper case', 'Linux/AMD64', { os: 'linux', architecture: 'amd64' }],
    [
      'windows version',
      'windows(10.0.17763.1234)/amd64',
      { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1234' },
    ],
  ];
  for (const [name, text, want] of rows) {
    it(`parses ${name}`, () => assert.deepEqual(parsePlatform(text), want));
  }

  for (const bad of ['', 'linux/', 'a/b/c/d', 'linux/amd 64', '/amd64']) {
    it(`rejects "${bad}" with PLATFORM_UNSUPPORTED`, () => {
      assert.equal(tryParsePlatform(bad), undefined);
      assert.throws(
        () => parsePlatform(bad),
        (e) => isCopaError(e, 'PLATFORM_UNSUPPORTED'),
      );
    });
  }
});

describe('formatPlatform()', () => {
  const rows: [string, string][] = [
    ['linux/arm64', 'linux/arm64'],
    ['linux/arm/v7', 'linux/arm/v7'],
    ['windows(10.0.20348.1)/amd64', 'windows(10.0.20348.1)/amd64'],
  ];
  for (const [text, want] of rows) {
    it(`round-trips "${text}"`, () => assert.equal(formatPlatform(parsePlatform(text)), want));
  }
});

describe('normalizePlatform()', () => {
  const rows: [string, string][] = [
    ['linux/arm64/v8', 'linux/arm64'],
    ['linux/arm64', 'linux/arm64'],
    ['linux/aarch64', 'linux/arm64'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/7', 'linux/arm/v7'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/armel', 'linux/arm/v6'],
    ['linux/arm/v6', 'linux/arm/v6'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['linux/amd64/v3', 'linux/amd64/v3'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/i686', 'linux/386'],
    ['linux/ppc64el', 'linux/ppc64le'],
    ['linux/s390x', 'linux/s390x'],
  ];
  for (const [text, want] of rows) {
    it(`turns "${text}" into "${want}"`, () => {
      assert.equal(formatPlatform(normalizePlatform(parsePlatform(text))), want);
    });
  }

  it('keeps os.version and os.features', () => {
    const p = normalizePlatform({
      os: 'windows',
      architecture: 'AMD64',
      'os.version': '10.0.17763.1',
      'os.features': ['win32k'],
    });
    assert.deepEqual(p, {
      os: 'windows',
      architecture: 'amd64',
      'os.version': '10.0.17763.1',
      'os.features': ['win32k'],
    });
  });
});

describe('platformsEqual()', () => {
  const rows: [string, string, boolean][] = [
    ['linux/arm64', 'linux/arm64/v8', true],
    ['linux/arm', 'linux/arm/v7', true],
    ['linux/arm/v6', 'linux/arm/v7', false],
    ['linux/amd64', 'linux/386', false],
    ['linux/amd64', 'linux/amd64/v1', true],
    ['linux/amd64', 'windows/amd64', false],
    ['windows(10.0.17763.1)/amd64', 'windows(10.0.17763.1)/amd64', true],
    ['windows(10.0.17763.1)/amd64', 'windows(10.0.20348.1)/amd64', false],
    ['windows(10.0.17763.1)/amd64', 'windows/amd64', false],
  ];
  for (const [a, b, want] of rows) {
    it(`says "${a}" ${want ? '==' : '!='} "${b}"`, () => {
      assert.equal(platformsEqual(parsePlatform(a), parsePlatform(b)), want);
    });
  }
});

describe('platformMatches()', () => {
  const rows: [string, string, boolean][] = [
    ['linux/arm64', 'linux/arm64/v8', true],
    ['linux/amd64', 'linux/386', false],
    ['linux/386', 'linux/amd64', false],
    ['linux/arm/v7', 'linux/arm/v6', false],
    ['windows/amd64', 'windows(10.0.17763.5)/amd64', true],
    ['windows(10.0.17763.1)/amd64', 'windows(10.0.17763.5)/amd64', true],
    ['windows(10.0.17763.1)/amd64', 'windows(10.0.20348.5)/amd64', false],
  ];
  for (const [want, have, result] of rows) {
    it(`says "${want}" ${result ? 'matches' : 'does not match'} "${have}"`, () => {
      assert.equal(platformMatches(parsePlatform(want), parsePlatform(have)), result);
    });
  }
});

describe('hostPlatform()', () => {
  it('returns a normalised platform of this machine', () => {
    const host = hostPlatform();
    assert.deepEqual(host, normalizePlatform(host));
    if (process.platform === 'linux' && process.arch === 'x64') {
      assert.equal(formatPlatform(host), 'linux/amd64');
    }
  });
});
