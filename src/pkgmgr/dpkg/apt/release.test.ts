import { test } from 'node:test';
import assert from 'node:assert/strict';

import { isCopaError } from '../../../errors.js';
import { checkValidUntil, parseRelease } from './release.js';

const HASH = 'ab'.repeat(32);

function release(extra: string): string {
  return [
    'Origin: Debian',
    'Suite: stable-security',
    'Codename: bookworm-security',
    extra,
    'MD5Sum:',
    ` ${'0'.repeat(32)} 10 main/binary-amd64/Packages`,
    'SHA256:',
    ` ${HASH}    1234 main/binary-amd64/Packages.xz`,
    ` ${HASH.toUpperCase()} 99 main/binary-amd64/Release`,
    ' bad line',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

test('parseRelease reads fields, SHA256 entries and the pin priority', () => {
  const r = parseRelease(release('Acquire-By-Hash: yes'), 'u');
  assert.equal(r.fields.get('codename'), 'bookworm-security');
  assert.equal(r.acquireByHash, true);
  assert.equal(r.priority, 500);
  assert.deepEqual(
    [...r.files],
    [
      ['main/binary-amd64/Packages.xz', { sha256: HASH, sizeBytes: 1234 }],
      ['main/binary-amd64/Release', { sha256: HASH, sizeBytes: 99 }],
    ],
  );
  assert.equal(parseRelease(release('NotAutomatic: yes'), 'u').priority, 1);
  const backports = release('NotAutomatic: yes\nButAutomaticUpgrades: yes');
  assert.equal(parseRelease(backports, 'u').priority, 100);
});

test('parseRelease throws REPOSITORY_UNVERIFIED without a SHA256 list', () => {
  assert.throws(
    () => parseRelease('Origin: x\nMD5Sum:\n 00 1 a\n', 'u'),
    (e) => isCopaError(e, 'REPOSITORY_UNVERIFIED'),
  );
});

test('checkValidUntil refuses an expired Release only', () => {
  const r = parseRelease(release('Valid-Until: Tue, 08 Dec 2026 19:40:00 UTC'), 'u');
  checkValidUntil(r, 'u', new Date('2026-12-08T19:39:00Z'));
  assert.throws(
    () => checkValidUntil(r, 'u', new Date('2026-12-08T19:41:00Z')),
    (e) => isCopaError(e, 'REPOSITORY_UNVERIFIED'),
  );
  checkValidUntil(parseRelease(release(''), 'u'), 'u', new Date(8.64e15));
});
