/**
 * Patches real bookworm root file systems (mmdebstrap, cached) with the updates
 * bookworm-security has for them, applies the layer entries and checks the result with the
 * real dpkg and apt inside the root.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { patchDpkg, readInstalledPackages } from '../../src/pkgmgr/dpkg/index.js';
import { compareDebianVersions } from '../../src/pkgmgr/dpkg/version.js';
import {
  buildDebianRootfs,
  buildDistrolessRootfs,
  findPendingUpdates,
  testCacheDir,
} from '../support/debian-images.js';
import { createRootfsTree } from '../support/rootfs-tree.js';
import { applyEntries } from './apply-entries.js';
import { canRun, inChroot, inChrootWithDev, removeRootfs, unpackRootfs } from './chroot.js';

const cacheDir = join(testCacheDir(), 'copa-cache');
const scratch: string[] = [];
after(async () => {
  for (const dir of scratch) await removeRootfs(dir);
});

async function workDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'copa-dpkg-work-'));
  scratch.push(dir);
  return dir;
}

async function patchRootfs(tarball: string, arch: string) {
  const root = await unpackRootfs(tarball);
  scratch.push(root);
  const { updates } = await findPendingUpdates(tarball, arch);
  assert.ok(updates.length > 0, 'bookworm-security has no updates for the rootfs');
  const request = {
    kind: 'packages' as const,
    packages: updates.map((u) => ({ name: u.name, fixedVersion: u.fixedVersion })),
  };
  const tree = createRootfsTree(root);
  const patch = await patchDpkg({ tree, request, cacheDir, workDir: await workDir(), arch });
  assert.deepEqual(patch.failed, []);
  await applyEntries(root, patch.entries);
  const installed = new Map((await readInstalledPackages(tree)).map((p) => [p.name, p.version]));
  for (const u of updates) {
    const version = installed.get(u.name) ?? '';
    assert.ok(compareDebianVersions(version, u.fixedVersion) >= 0, `${u.name} ${version}`);
  }
  return { root, patch, updates };
}

async function checkWithDpkg(root: string, names: readonly string[]): Promise<void> {
  const audit = await inChroot(root, 'dpkg --audit');
  assert.equal(audit.code, 0, audit.stdout + audit.stderr);
  assert.equal(audit.stdout, '');
  const verify = await inChroot(root, `dpkg --verify ${names.join(' ')}`);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.equal(verify.stdout, '');
  const check = await inChroot(root, 'apt-get check');
  assert.equal(check.code, 0, check.stdout + check.stderr);
}

describe('patchDpkg() on bookworm', () => {
  for (const arch of ['amd64', 'arm64']) {
    it(`leaves a consistent ${arch} system that runs the new openssl`, async (t) => {
      if (!(await canRun(arch))) return t.skip(`no way to run ${arch} binaries here`);
      const tarball = await buildDebianRootfs(arch);
      const { root, patch } = await patchRootfs(tarball, arch);
      const names = patch.updated.map((u) => u.name);
      await checkWithDpkg(root, names);

      const query = await inChroot(root, "dpkg-query -W -f '${Package} ${Version}\\n'");
      const versions = new Map(
        query.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(' ') as [string, string]),
      );
      for (const u of patch.updated) assert.equal(versions.get(u.name), u.toVersion, u.name);
      const openssl = patch.updated.find((u) => u.name === 'openssl');
      if (openssl !== undefined) {
        const out = await inChroot(root, 'openssl version');
        assert.equal(out.code, 0, out.stderr);
        assert.ok(out.stdout.includes(openssl.toVersion.split('-')[0]!), out.stdout);
      }
      const db = patch.entries.find((e) => e.path === 'var/lib/dpkg/status');
      assert.ok(db !== undefined, 'the layer rewrites the status file');
    });
  }

  it('writes the status and info files apt-get writes for the same updates', async () => {
    const tarball = await buildDebianRootfs('amd64');
    const { root, patch } = await patchRootfs(tarball, 'amd64');
    const twin = await unpackRootfs(tarball);
    scratch.push(twin);
    await copyFile('/etc/resolv.conf', join(twin, 'etc/resolv.conf'));
    const names = patch.updated.map((u) => u.name).join(' ');
    const apt = await inChrootWithDev(
      twin,
      'apt-get -q update && apt-get -q -y --only-upgrade --no-install-recommends ' +
        `-o Dpkg::Options::=--force-confold install ${names} && apt-get clean`,
    );
    assert.equal(apt.code, 0, apt.stdout + apt.stderr);
    const status = 'var/lib/dpkg/status';
    const [ours, theirs] = await Promise.all([
      readFile(join(root, status), 'utf8'),
      readFile(join(twin, status), 'utf8'),
    ]);
    assert.equal(ours, theirs);
    const info = 'var/lib/dpkg/info';
    const listing = await readdir(join(twin, info));
    assert.deepEqual((await readdir(join(root, info))).sort(), listing.sort());
    for (const name of listing) {
      const [a, b] = await Promise.all([
        readFile(join(root, info, name)),
        readFile(join(twin, info, name)),
      ]);
      assert.ok(a.equals(b), `info/${name} differs`);
    }
  });

  it('updates a distroless image in its status.d layout', async () => {
    const tarball = await buildDistrolessRootfs('amd64');
    const { root, patch } = await patchRootfs(tarball, 'amd64');
    assert.ok(patch.updated.length > 0);
    assert.ok(!patch.entries.some((e) => e.path === 'var/lib/dpkg/status'));
    assert.ok(!patch.entries.some((e) => e.path.startsWith('var/lib/dpkg/info/')));
    for (const u of patch.updated) {
      const dir = join(root, 'var/lib/dpkg/status.d');
      const stanza = await readFile(join(dir, u.name), 'utf8');
      assert.ok(stanza.startsWith(`Package: ${u.name}\n`), stanza);
      assert.ok(stanza.includes(`\nVersion: ${u.toVersion}\n`), stanza);
      assert.doesNotMatch(stanza, /^Status:/m, 'the image style (raw control files) is kept');
      const sums = await readFile(join(dir, `${u.name}.md5sums`), 'utf8');
      for (const line of sums.trim().split('\n')) {
        const [md5, path] = [line.slice(0, 32), line.slice(34)];
        const actual = createHash('md5')
          .update(await readFile(join(root, path)))
          .digest('hex');
        assert.equal(actual, md5, path);
      }
    }
    await removeRootfs(root);
  });
});
