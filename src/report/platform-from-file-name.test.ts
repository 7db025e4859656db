import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { platformFromFileName } from './platform-from-file-name.js';

describe('platformFromFileName()', () => {
  const rows: readonly (readonly [string, string | undefined])[] = [
    ['linux-arm64.json', 'linux/arm64'],
    ['arm64.json', 'linux/arm64'],
    ['linux-arm-v7.json', 'linux/arm/v7'],
    ['linux-arm-v6.json', 'linux/arm/v6'],
    ['linux-arm.json', 'linux/arm/v7'],
    ['linux-arm64-v8.json', 'linux/arm64'],
    ['dir/linux_amd64.json', 'linux/amd64'],
    ['report.x86_64.json', 'linux/amd64'],
    ['scan-aarch64.json', 'linux/arm64'],
    ['linux-ppc64le.json', 'linux/ppc64le'],
    ['linux-s390x.json', 'linux/s390x'],
    ['scan.json', undefined],
    ['armory.json', undefined],
  ];
  for (const [name, want] of rows) {
    it(`reads ${want ?? 'no platform'} from "${name}"`, () => {
      const p = platformFromFileName(name);
      const text = p && [p.os, p.architecture, p.variant].filter(Boolean).join('/');
      assert.equal(text, want);
    });
  }
});
