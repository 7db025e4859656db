import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { isCopaError } from '../errors.js';
import { normalizeOsFamily, tryNormalizeOsFamily } from './os-family.js';

describe('tryNormalizeOsFamily()', () => {
  const rows: readonly (readonly [string, string | undefined])[] = [
    ['debian', 'debian'],
    ['Ubuntu', 'ubuntu'],
    ['alpine', 'alpine'],
    ['redhat', 'redhat'],
    ['rhel', 'redhat'],
    ['Red Hat Enterprise Linux', 'redhat'],
    ['centos', 'centos'],
    ['rocky', 'rocky'],
    ['rockylinux', 'rocky'],
    ['alma', 'alma'],
    ['almalinux', 'alma'],
    ['oracle', 'oracle'],
    ['ol', 'oracle'],
    ['amazon', 'amazon'],
    ['amzn', 'amazon'],
    ['cbl-mariner', 'cbl-mariner'],
    ['mariner', 'cbl-mariner'],
    ['azurelinux', 'azurelinux'],
    ['sles', 'sles'],
    ['opensuse-leap', 'opensuse-leap'],
    ['opensuse.leap', 'opensuse-leap'],
    ['opensuse-tumbleweed', 'opensuse-tumbleweed'],
    ['photon', 'photon'],
    ['fedora', 'fedora'],
    ['wolfi', 'wolfi'],
    ['chainguard', 'chainguard'],
    ['archlinux', undefined],
    ['busybox', undefined],
    ['none', undefined],
    ['slem', undefined],
    ['', undefined],
  ];
  for (const [name, want] of rows) {
    it(`maps "${name}" to ${want === undefined ? 'nothing' : `"${want}"`}`, () => {
      assert.equal(tryNormalizeOsFamily(name), want);
    });
  }
});

describe('normalizeOsFamily()', () => {
  it('throws OS_UNSUPPORTED naming the family and file when copa cannot patch it', () => {
    assert.throws(
      () => normalizeOsFamily('archlinux', 'scan.json'),
      (err) =>
        isCopaError(err, 'OS_UNSUPPORTED') &&
        /archlinux/.test(err.message) &&
        /scan\.json/.test(err.message),
    );
  });
});
