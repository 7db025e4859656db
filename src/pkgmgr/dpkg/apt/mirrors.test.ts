import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

import { isCopaError } from '../../../errors.js';
import { classifyArchive, loadUserMirrors, readHostArchives } from './mirrors.js';

test('classifyArchive tells the archive from the URI path', () => {
  const rows: [string, string, string | undefined][] = [
    ['http://m.invalid/debian', 'bookworm', 'debian'],
    ['http://m.invalid/debian/', 'bookworm', 'debian'],
    ['http://m.invalid/debian-security', 'bookworm-security', 'debianSecurity'],
    ['http://s.invalid/archive/debian-security/20250520T000000Z', 'x', 'debianSecurity'],
    ['http://s.invalid/archive/debian/20250520T000000Z/', 'x', 'debian'],
    ['http://m.invalid/ubuntu/', 'noble', 'ubuntu'],
    ['http://m.invalid/ubuntu/', 'noble-security', 'ubuntuSecurity'],
    ['http://m.invalid/ubuntu-ports', 'noble', 'ubuntuPorts'],
    ['https://vendor.invalid/apt', 'stable', undefined],
    ['not a url', 'x', undefined],
  ];
  for (const [uri, suite, want] of rows) assert.equal(classifyArchive(uri, suite), want, uri);
});

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'copa-mirrors-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

test('loadUserMirrors prefers the environment over the config file', async (t) => {
  const dir = await tempDir(t);
  const configFile = path.join(dir, 'config.json');
  await fs.writeFile(
    configFile,
    JSON.stringify({
      debianMirror: 'http://file.invalid/debian',
      ubuntuMirror: 'http://u.invalid/ubuntu/',
    }),
  );
  const env = { COPA_DEBIAN_MIRROR: 'http://env.invalid/debian/', COPA_UBUNTU_MIRROR: '' };
  assert.deepEqual(await loadUserMirrors({ env, configFile }), {
    debian: 'http://env.invalid/debian',
    ubuntu: 'http://u.invalid/ubuntu',
  });
  assert.deepEqual(await loadUserMirrors({ env: {}, configFile: path.join(dir, 'none.json') }), {});
  await fs.writeFile(configFile, '{ not json');
  await assert.rejects(loadUserMirrors({ env: {}, configFile }), (e) =>
    isCopaError(e, 'REPOSITORY_CONFIG_INVALID'),
  );
});

test('readHostArchives keeps the first URI of each archive and its keyrings', async (t) => {
  const root = await tempDir(t);
  const dir = path.join(root, 'etc/apt/sources.list.d');
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(
    path.join(root, 'etc/apt/sources.list'),
    'deb http://one.invalid/debian bookworm main\ndeb http://vendor.invalid/x stable main\n',
  );
  await fs.writeFile(
    path.join(dir, 'debian.sources'),
    'Types: deb\nURIs: http://two.invalid/debian\nSuites: bookworm\nComponents: main\n\n' +
      'Types: deb\nURIs: http://sec.invalid/debian-security\nSuites: bookworm-security\n' +
      'Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n',
  );
  await fs.writeFile(path.join(dir, 'broken.list'), 'deb\n');
  const host = await readHostArchives(root);
  assert.deepEqual(host.mirrors, {
    debian: 'http://one.invalid/debian',
    debianSecurity: 'http://sec.invalid/debian-security',
  });
  assert.deepEqual(host.keyrings, {
    debianSecurity: ['/usr/share/keyrings/debian-archive-keyring.gpg'],
  });
  assert.deepEqual(await readHostArchives(path.join(root, 'missing')), {
    mirrors: {},
    keyrings: {},
  });
});
