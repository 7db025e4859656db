import { test } from 'node:test';
import assert from 'node:assert/strict';

import { aptConfigPaths, readAptConfig } from '../../src/pkgmgr/dpkg/apt/index.js';
import { memoryTree } from './memory-tree.js';

const osRelease = { id: 'debian', versionCodename: 'bookworm' };

test('aptConfigPaths selects the apt files and keyrings only', () => {
  const rows: [string, boolean][] = [
    ['etc/apt/sources.list', true],
    ['etc/apt/sources.list.d/debian.sources', true],
    ['etc/apt/sources.list.d/sub/x.list', false],
    ['etc/apt/trusted.gpg', true],
    ['etc/apt/trusted.gpg.d/x.asc', true],
    ['etc/apt/apt.conf.d/99proxy', true],
    ['etc/apt/keyrings/vendor.gpg', true],
    ['usr/share/keyrings/debian-archive-keyring.gpg', true],
    ['usr/share/keyrings/sub/x.gpg', false],
    ['etc/apt/preferences', false],
    ['var/lib/dpkg/status', false],
  ];
  for (const [p, want] of rows) assert.equal(aptConfigPaths(p), want, p);
});

test('readAptConfig reads sources in apt order with their Signed-By keys', async () => {
  const tree = memoryTree({
    'etc/apt/sources.list': 'deb http://a.invalid/debian bookworm main\n',
    'etc/apt/sources.list.d/b.sources':
      'Types: deb\nURIs: http://b.invalid/debian\nSuites: bookworm\nComponents: main\n' +
      'Signed-By: /usr/share/keyrings/b.gpg\n',
    'etc/apt/sources.list.d/a.list':
      'deb [signed-by=/etc/apt/keyrings/a.asc] http://c.invalid/x stable main\n',
    'etc/apt/sources.list.d/ignored.txt': 'deb http://ignored.invalid/ x main\n',
    'etc/apt/keyrings/a.asc': 'armored',
    'usr/share/keyrings/b.gpg': new Uint8Array([1, 2, 3]),
  });
  const config = await readAptConfig(tree, { osRelease });
  assert.deepEqual(
    config.sources.map((s) => s.uri),
    ['http://a.invalid/debian', 'http://c.invalid/x', 'http://b.invalid/debian'],
  );
  const [, fromList, fromSources] = config.sources;
  assert.equal(fromList?.signedBy?.[0]?.kind, 'file');
  assert.deepEqual(fromSources?.signedBy, [
    { kind: 'file', path: '/usr/share/keyrings/b.gpg', data: new Uint8Array([1, 2, 3]) },
  ]);
  assert.equal(tree.reads, 1);
});

test('readAptConfig reads keys outside the keyring folders and follows symlinks', async () => {
  const tree = memoryTree({
    'etc/apt/sources.list.d/x.list':
      'deb [signed-by=/opt/vendor/key.gpg] http://x.invalid/x stable main\n' +
      'deb [signed-by=/usr/share/keyrings/gone.gpg] http://y.invalid/y stable main\n',
    'opt/vendor/key.gpg': { symlink: '../keys/real.gpg' },
    'opt/keys/real.gpg': 'key bytes',
    'etc/apt/trusted.gpg.d/linked.gpg': { symlink: '/usr/share/keyrings/archive.gpg' },
    'usr/share/keyrings/archive.gpg': 'archive key',
    'etc/apt/trusted.gpg.d/notes.txt': 'not a key',
  });
  const config = await readAptConfig(tree, { osRelease });
  const key = config.sources[0]?.signedBy?.[0];
  assert.equal(key?.kind, 'file');
  assert.equal(key?.kind === 'file' && Buffer.from(key.data).toString(), 'key bytes');
  assert.deepEqual(config.sources[1]?.signedBy, [
    { kind: 'missing', path: '/usr/share/keyrings/gone.gpg' },
  ]);
  assert.deepEqual(
    config.trustedKeys.map((k) => k.kind === 'file' && [k.path, Buffer.from(k.data).toString()]),
    [['/etc/apt/trusted.gpg.d/linked.gpg', 'archive key']],
  );
});

test('readAptConfig reads proxy and Valid-Until settings, apt.conf last', async () => {
  const tree = memoryTree({
    'etc/apt/apt.conf.d/01proxy': 'Acquire::http::Proxy "http://first.invalid:3128";',
    'etc/apt/apt.conf.d/99snapshot': 'Acquire::Check-Valid-Until "false";',
    'etc/apt/apt.conf': 'Acquire::http::Proxy "http://main.invalid:3128";',
  });
  const config = await readAptConfig(tree, { osRelease });
  assert.deepEqual(config.sources, []);
  assert.deepEqual(config.proxy, { http: 'http://main.invalid:3128' });
  assert.equal(config.checkValidUntil, false);
});
