import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { isCopaError } from '../../errors.js';
import type { FileTree, TreeFile } from '../types.js';
import { detectDpkg, parseOsRelease, readInstalledPackages } from './index.js';

function tree(files: Record<string, string>): FileTree {
  const all = new Map<string, TreeFile>(
    Object.entries(files).map(([path, text]) => [
      path,
      { path, type: 'file', mode: 0o644, uid: 0, gid: 0, content: Buffer.from(text) },
    ]),
  );
  return { readFiles: async (select) => new Map([...all].filter(([p]) => select(p))) };
}

const STATUS = `Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl (3.0.2-1)
Version: 3.0.2-1+b1

Package: gone
Status: deinstall ok config-files
Architecture: amd64
Version: 1

`;

describe('dpkg entry points', () => {
  it('detectDpkg() tells the database layout apart', async () => {
    assert.equal(await detectDpkg(tree({ 'var/lib/dpkg/status': STATUS })), 'status');
    const distroless = { 'var/lib/dpkg/status.d/libssl3': 'Package: libssl3\nVersion: 1\n' };
    assert.equal(await detectDpkg(tree(distroless)), 'status.d');
    assert.equal(await detectDpkg(tree({ 'etc/os-release': 'ID=alpine\n' })), undefined);
  });

  it('readInstalledPackages() lists installed packages with their source', async () => {
    const packages = await readInstalledPackages(tree({ 'var/lib/dpkg/status': STATUS }));
    assert.deepEqual(packages, [
      {
        name: 'libssl3',
        arch: 'amd64',
        version: '3.0.2-1+b1',
        source: 'openssl',
        sourceVersion: '3.0.2-1',
        want: 'install',
      },
    ]);
  });

  it('readInstalledPackages() throws PACKAGE_DATABASE_MISSING without a database', async () => {
    await assert.rejects(readInstalledPackages(tree({})), (e) =>
      isCopaError(e, 'PACKAGE_DATABASE_MISSING'),
    );
  });

  it('readInstalledPackages() throws PACKAGE_DATABASE_INVALID for a broken status', async () => {
    const broken = tree({ 'var/lib/dpkg/status': 'Version: 1\n garbage\n' });
    await assert.rejects(readInstalledPackages(broken), (e) =>
      isCopaError(e, 'PACKAGE_DATABASE_INVALID'),
    );
  });

  it('parseOsRelease() reads quoted and unquoted values', () => {
    const text = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n';
    assert.deepEqual(parseOsRelease(`${text}VERSION_CODENAME=bookworm\n`), {
      id: 'debian',
      versionId: '12',
      versionCodename: 'bookworm',
    });
  });
});
