import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';

import { loadKeys, readKeyring } from './keyring.js';

const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

test('readKeyring refuses GnuPG keybox files', async () => {
  const keybox = Buffer.alloc(32);
  keybox.write('KBXf', 8, 'latin1');
  await assert.rejects(readKeyring(keybox), /keybox/);
});

test('readKeyring reads the binary Debian keyring and its armored form alike', async (t) => {
  if (!existsSync(DEBIAN_KEYRING)) {
    t.skip('this host has no Debian archive keyring');
    return;
  }
  const binary = await readKeyring(await fs.readFile(DEBIAN_KEYRING));
  assert.ok(binary.length > 0);
  const armored = binary.map((k) => k.armor()).join('\n');
  const again = await readKeyring(Buffer.from(`\n${armored}`));
  assert.deepEqual(
    again.map((k) => k.getFingerprint()),
    binary.map((k) => k.getFingerprint()),
  );
});

test('loadKeys reports missing and unreadable keyrings and filters by fingerprint', async (t) => {
  const loaded = await loadKeys([
    { source: { kind: 'missing', path: '/gone.gpg' } },
    { source: { kind: 'file', path: '/junk.gpg', data: new Uint8Array([1, 2, 3]) } },
  ]);
  assert.equal(loaded.keys.length, 0);
  assert.equal(loaded.problems.length, 2);
  assert.match(loaded.problems[0] ?? '', /"\/gone\.gpg": not in the image/);
  if (!existsSync(DEBIAN_KEYRING)) return t.skip('this host has no Debian archive keyring');
  const data = await fs.readFile(DEBIAN_KEYRING);
  const all = await readKeyring(data);
  const wanted = all[0]!.getFingerprint().toUpperCase();
  const filtered = await loadKeys([
    { source: { kind: 'file', path: DEBIAN_KEYRING, data }, onlyFingerprints: [wanted] },
  ]);
  assert.deepEqual(
    filtered.keys.map((k) => k.getFingerprint().toUpperCase()),
    [wanted],
  );
});
