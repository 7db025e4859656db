import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatPlatform, tryParsePlatform } from './parse-platform.js';

describe('tryParsePlatform()', () => {
  const valid: [string, object][] = [
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/arm64', { os: 'linux', architecture: 'arm64' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/arm/v7', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/386', { os: 'linux', architecture: '386' }],
    ['Linux/PPC64LE', { os: 'linux', architecture: 'ppc64le' }],
    ['windows/amd64', { os: 'windows', architecture: 'amd64' }],
  ];
  for (const [text, platform] of valid) {
    it(`reads "${text}"`, () => assert.deepEqual(tryParsePlatform(text), platform));
  }

  const invalid: [string, RegExp][] = [
    ['linux', /os\/arch/],
    ['linux/', /os\/arch/],
    ['amd64', /os\/arch/],
    ['linux/arm/v7/extra', /os\/arch/],
    ['linux/amd46', /unknown architecture "amd46"/],
    ['linus/amd64', /unknown os "linus"/],
    ['linux/arm/v 7', /invalid variant/],
    ['linux/arm/', /invalid variant/],
  ];
  for (const [text, reason] of invalid) {
    it(`rejects "${text}" with a reason`, () => {
      const result = tryParsePlatform(text);
      assert.equal(typeof result, 'string');
      assert.match(result as string, reason);
    });
  }
});

describe('formatPlatform()', () => {
  it('writes the variant only when there is one', () => {
    assert.equal(
      formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v6' }),
      'linux/arm/v6',
    );
    assert.equal(formatPlatform({ os: 'linux', architecture: 's390x' }), 'linux/s390x');
  });
});
