/**
 * Edge cases of dpkg upgrades, with packages from a signed local repository installed by the
 * real dpkg into a bookworm root: the same upgrade is done once by patchDpkg and once by the
 * real apt-get on a copy, and the two roots must agree (status and info files byte for byte).
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { isCopaError } from '../../src/errors.js';
import type { LayerEntry } from '../../src/layer/types.js';
import { patchDpkg } from '../../src/pkgmgr/dpkg/index.js';
import type { PackagePatch } from '../../src/pkgmgr/types.js';
import { startAptRepository, type AptRepository, type FakePackage } from '../support/apt-repo.js';
import { buildDebianRootfs } from '../support/debian-images.js';
import { createRootfsTree } from '../support/rootfs-tree.js';
import { applyEntries } from './apply-entries.js';
import { copyRootfs, inChrootWithDev, removeRootfs, run, unpackRootfs } from './chroot.js';

const v1: FakePackage[] = [
  {
    name: 'rmfiles',
    version: '1',
    arch: 'all',
    files: {
      'usr/share/rmfiles/keep': 'keep 1\n',
      'usr/share/rmfiles/gone': 'gone\n',
      'usr/share/rmfiles/olddir/x': 'x\n',
    },
  },
  { name: 'app', version: '1', files: { 'usr/bin/app-tool': '#!/bin/sh\necho 1\n' } },
  {
    name: 'cfgleft',
    version: '1',
    arch: 'all',
    files: { 'etc/cfgleft.conf': 'c=1\n' },
    conffiles: ['/etc/cfgleft.conf'],
  },
  { name: 'lib-b', version: '1', arch: 'all', files: { 'usr/share/lib-b/v': '1\n' } },
  {
    name: 'client',
    version: '1',
    arch: 'all',
    depends: 'lib-b',
    files: { 'usr/share/client/v': '1\n' },
  },
  {
    name: 'confpkg',
    version: '1',
    arch: 'all',
    files: {
      'etc/confpkg/edited.conf': 'a=1\n',
      'etc/confpkg/plain.conf': 'p=1\n',
      'etc/confpkg/dropped.conf': 'd=1\n',
    },
    conffiles: ['/etc/confpkg/edited.conf', '/etc/confpkg/plain.conf', '/etc/confpkg/dropped.conf'],
  },
  ...['amd64', 'i386'].map((arch): FakePackage => ({
    name: 'libma',
    version: '1',
    arch,
    multiArch: 'same',
    files: {
      [`usr/lib/${arch === 'amd64' ? 'x86_64' : 'i386'}-linux-gnu/libma.so.1`]: `ma 1 ${arch}\n`,
      'usr/share/doc/libma/README': 'shared 1\n',
    },
  })),
  { name: 'owner-old', version: '1', arch: 'all', files: { 'usr/share/take/f': 'old\n' } },
  {
    name: 'owner-keep',
    version: '1',
    arch: 'all',
    files: { 'usr/share/take/g': 'old\n', 'usr/share/owner-keep/other': 'other\n' },
  },
  { name: 'taker', version: '1', arch: 'all', files: { 'usr/share/taker/x': '1\n' } },
  { name: 'oldname', version: '1', arch: 'all', files: { 'usr/share/oldname/data': 'data\n' } },
  {
    name: 'mmpkg',
    version: '1',
    files: { 'bin/mmtool': '#!/bin/sh\necho mm 1\n', 'lib/mmpkg/old': 'old\n' },
  },
];

const v2: FakePackage[] = [
  { name: 'rmfiles', version: '2', arch: 'all', files: { 'usr/share/rmfiles/keep': 'keep 2\n' } },
  {
    name: 'app',
    version: '2',
    depends: 'newlib (>= 1), cfgleft',
    files: { 'usr/bin/app-tool': '#!/bin/sh\necho 2\n' },
  },
  { name: 'newlib', version: '1', arch: 'all', files: { 'usr/share/newlib/file': 'n\n' } },
  {
    name: 'lib-b',
    version: '2',
    arch: 'all',
    breaks: 'client (<< 2)',
    files: { 'usr/share/lib-b/v': '2\n' },
  },
  {
    name: 'client',
    version: '2',
    arch: 'all',
    depends: 'lib-b (>= 2)',
    files: { 'usr/share/client/v': '2\n' },
  },
  {
    name: 'confpkg',
    version: '2',
    arch: 'all',
    files: { 'etc/confpkg/edited.conf': 'a=2\n', 'etc/confpkg/plain.conf': 'p=2\n' },
    conffiles: ['/etc/confpkg/edited.conf', '/etc/confpkg/plain.conf'],
    scripts: { postinst: '#!/bin/sh\nset -e\ntrue "configured $1"\n' },
  },
  ...['amd64', 'i386'].map((arch): FakePackage => ({
    name: 'libma',
    version: '2',
    arch,
    multiArch: 'same',
    files: {
      [`usr/lib/${arch === 'amd64' ? 'x86_64' : 'i386'}-linux-gnu/libma.so.1`]: `ma 2 ${arch}\n`,
      'usr/share/doc/libma/README': 'shared 2\n',
    },
  })),
  {
    name: 'taker',
    version: '2',
    arch: 'all',
    replaces: 'owner-old, owner-keep',
    files: {
      'usr/share/taker/x': '2\n',
      'usr/share/take/f': 'new\n',
      'usr/share/take/g': 'new\n',
    },
  },
  { name: 'oldname', version: '2', arch: 'all', depends: 'newname' },
  {
    name: 'newname',
    version: '2',
    arch: 'all',
    replaces: 'oldname (<< 2)',
    breaks: 'oldname (<< 2)',
    provides: 'oldname-data',
    files: { 'usr/share/oldname/data': 'data 2\n' },
  },
  {
    name: 'mmpkg',
    version: '2',
    files: {
      'usr/bin/mmtool': '#!/bin/sh\necho mm 2\n',
      'usr/bin/mmtool-link': { hardlink: 'usr/bin/mmtool' },
    },
  },
];

const requested = ['rmfiles', 'app', 'lib-b', 'confpkg', 'libma', 'taker', 'oldname', 'mmpkg'].map(
  (name) => ({ name, fixedVersion: '2' }),
);

let repo: AptRepository;
let base: string;
const scratch: string[] = [];

const withDev = inChrootWithDev;

async function installV1(root: string): Promise<void> {
  const debs = join(root, 'tmp/v1');
  await mkdir(debs, { recursive: true });
  for (const [name, path] of repo.debs) {
    if (name.includes('_1_')) await copyFile(path, join(debs, basename(path)));
  }
  await writeFile(
    join(root, 'etc/dpkg/dpkg.cfg.d/excludes'),
    'path-exclude=/usr/share/doc/*\npath-include=/usr/share/doc/*/copyright\n',
  );
  const r = await withDev(
    root,
    [
      'dpkg --add-architecture i386',
      'dpkg -i /tmp/v1/*.deb',
      'dpkg -r cfgleft',
      'dpkg-divert --local --rename --divert /usr/share/client/v.local --add /usr/share/client/v',
      'dpkg-statoverride --update --add nobody nogroup 0640 /usr/share/lib-b/v',
    ].join(' && '),
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  await run('rm', ['-rf', debs]);
  await writeFile(join(root, 'etc/confpkg/edited.conf'), 'a=local\n');
  await run('rm', ['-f', join(root, 'etc/apt/sources.list.d/debian.sources')]);
  await mkdir(join(root, 'etc/apt/keyrings'), { recursive: true });
  await copyFile(repo.keyringPath, join(root, 'etc/apt/keyrings/test.gpg'));
  await writeFile(
    join(root, 'etc/apt/sources.list.d/test.list'),
    `deb [signed-by=/etc/apt/keyrings/test.gpg] ${repo.url} stable main\n`,
  );
}

before(async () => {
  // apt-get skips indexes whose uncompressed name the Release file does not list.
  repo = await startAptRepository({
    packages: v1,
    architectures: ['amd64', 'i386'],
    indexCompression: ['xz', 'gz', 'none'],
  });
  base = await unpackRootfs(await buildDebianRootfs('amd64'));
  await installV1(base);
  await repo.publish(v2);
});

after(async () => {
  for (const dir of [base, ...scratch]) await removeRootfs(dir);
  await repo?.stop();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'copa-dpkg-edge-'));
  scratch.push(dir);
  return dir;
}

async function patched(): Promise<{ root: string; patch: PackagePatch; passes: number }> {
  const root = await copyRootfs(base);
  scratch.push(root);
  const files = createRootfsTree(root);
  let passes = 0;
  const tree = {
    readFiles: (select: (path: string) => boolean) => {
      passes += 1;
      return files.readFiles(select);
    },
  };
  const patch = await patchDpkg({
    tree,
    request: { kind: 'packages', packages: requested },
    cacheDir: await tempDir(),
    workDir: await tempDir(),
  });
  await applyEntries(root, patch.entries);
  return { root, patch, passes };
}

async function upgradedByApt(): Promise<string> {
  const root = await copyRootfs(base);
  scratch.push(root);
  const names = requested.map((r) => (r.name === 'libma' ? 'libma:amd64 libma:i386' : r.name));
  const r = await withDev(
    root,
    'apt-get -q update && apt-get -q -y --only-upgrade --no-install-recommends ' +
      `-o Dpkg::Options::=--force-confold install ${names.join(' ')} && apt-get clean`,
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return root;
}

/** Path, type, mode, owner, size and content hash of every file, ignoring run-time state. */
async function manifest(root: string, dir = ''): Promise<string[]> {
  const skip = /^(dev|proc|sys|tmp|run|var\/cache|var\/log|var\/lib\/apt\/lists)(\/|$)/;
  const volatile = /^var\/lib\/dpkg\/(status-old|lock.*|triggers\/.*)$|^var\/lib\/apt\/ext/;
  const out: string[] = [];
  for (const name of (await readdir(join(root, dir))).sort()) {
    const rel = dir === '' ? name : `${dir}/${name}`;
    if (skip.test(rel) || volatile.test(rel)) continue;
    const st = await lstat(join(root, rel));
    let what = '';
    if (st.isSymbolicLink()) what = `-> ${await readlink(join(root, rel))}`;
    else if (st.isFile()) {
      what = createHash('sha256')
        .update(await readFile(join(root, rel)))
        .digest('hex');
    }
    out.push(`${rel} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${what}`);
    if (st.isDirectory()) out.push(...(await manifest(root, rel)));
  }
  return out;
}

const entry = (patch: PackagePatch, path: string): LayerEntry | undefined =>
  patch.entries.find((e) => e.path === path);

describe('patchDpkg() with a local repository', () => {
  let ours: { root: string; patch: PackagePatch; passes: number };
  let apts: string;
  before(async () => {
    ours = await patched();
    apts = await upgradedByApt();
  });

  it('writes the same status and info files as apt-get and dpkg', async () => {
    const status = 'var/lib/dpkg/status';
    assert.equal(
      await readFile(join(ours.root, status), 'utf8'),
      await readFile(join(apts, status), 'utf8'),
    );
    const info = 'var/lib/dpkg/info';
    const names = (await readdir(join(apts, info))).sort();
    assert.deepEqual((await readdir(join(ours.root, info))).sort(), names);
    for (const name of names) {
      const [a, b] = await Promise.all([
        readFile(join(ours.root, info, name)),
        readFile(join(apts, info, name)),
      ]);
      assert.ok(a.equals(b), `info/${name} differs`);
    }
  });

  it('reads the image in few passes', () => {
    assert.ok(ours.passes <= 5, `${ours.passes} passes over the layers`);
  });

  it('leaves every file as apt-get does', async () => {
    assert.deepEqual(await manifest(ours.root), await manifest(apts));
  });

  it('passes dpkg --audit, dpkg --verify and apt-get check', async () => {
    const r = await withDev(ours.root, 'dpkg --audit && dpkg --verify && apt-get check -q');
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('whites out files the new version dropped, and their empty directory', () => {
    assert.equal(entry(ours.patch, 'usr/share/rmfiles/gone')?.type, 'whiteout');
    assert.equal(entry(ours.patch, 'usr/share/rmfiles/olddir')?.type, 'whiteout');
    assert.equal(entry(ours.patch, 'usr/share/rmfiles')?.type, undefined);
  });

  it('installs a new dependency and marks it auto-installed as apt does', async () => {
    const added = ours.patch.updated.find((u) => u.name === 'newlib');
    assert.deepEqual(added, {
      name: 'newlib',
      arch: 'all',
      fromVersion: undefined,
      toVersion: '1',
    });
    const marks = async (root: string) =>
      (await readFile(join(root, 'var/lib/apt/extended_states'), 'utf8'))
        .split('\n\n')
        .map((s) => s.trim())
        .filter(Boolean)
        .sort();
    assert.deepEqual(await marks(ours.root), await marks(apts));
  });

  it('upgrades a package that the new version breaks', () => {
    assert.equal(ours.patch.updated.find((u) => u.name === 'client')?.toVersion, '2');
  });

  it('keeps an edited conffile and writes the new one as .dpkg-dist', async () => {
    const etc = join(ours.root, 'etc/confpkg');
    assert.equal(await readFile(join(etc, 'edited.conf'), 'utf8'), 'a=local\n');
    assert.equal(await readFile(join(etc, 'edited.conf.dpkg-dist'), 'utf8'), 'a=2\n');
    assert.equal(await readFile(join(etc, 'plain.conf'), 'utf8'), 'p=2\n');
    assert.equal(await readFile(join(etc, 'dropped.conf'), 'utf8'), 'd=1\n');
  });

  it('lists the maintainer scripts it did not run', () => {
    const confpkg = ours.patch.scriptsNotRun.find((s) => s.name === 'confpkg');
    assert.deepEqual(confpkg?.scripts, ['postinst']);
    assert.ok(!ours.patch.scriptsNotRun.some((s) => s.name === 'rmfiles'));
  });

  it('honours diversions, stat overrides and path filters', async () => {
    assert.equal(await readFile(join(ours.root, 'usr/share/client/v.local'), 'utf8'), '2\n');
    const st = await lstat(join(ours.root, 'usr/share/lib-b/v'));
    assert.equal(st.mode & 0o7777, 0o640);
    assert.equal(entry(ours.patch, 'usr/share/doc/libma/README'), undefined);
  });

  it('upgrades both instances of a Multi-Arch: same library', () => {
    const ma = ours.patch.updated.filter((u) => u.name === 'libma').map((u) => u.arch);
    assert.deepEqual(ma.sort(), ['amd64', 'i386']);
    assert.ok(entry(ours.patch, 'var/lib/dpkg/info/libma:i386.list'));
  });

  it('takes over files of packages it Replaces, rewriting or dropping them', async () => {
    const info = join(ours.root, 'var/lib/dpkg/info');
    const list = await readFile(join(info, 'owner-keep.list'), 'utf8');
    assert.ok(!list.includes('/usr/share/take/g'));
    assert.ok(list.includes('/usr/share/owner-keep/other'));
    assert.equal(await readFile(join(ours.root, 'usr/share/take/g'), 'utf8'), 'new\n');
    const status = await readFile(join(ours.root, 'var/lib/dpkg/status'), 'utf8');
    assert.ok(!status.includes('Package: owner-old\n'), 'owner-old disappears');
    assert.ok(!(await readdir(info)).some((n) => n.startsWith('owner-old.')));
  });

  it('moves files of a renamed package to its successor', async () => {
    assert.equal(ours.patch.updated.find((u) => u.name === 'newname')?.fromVersion, undefined);
    const data = await readFile(join(ours.root, 'usr/share/oldname/data'), 'utf8');
    assert.equal(data, 'data 2\n');
  });

  it('writes files through the usrmerge symlinks and never whites out a moved file', () => {
    assert.equal(entry(ours.patch, 'usr/bin/mmtool')?.type, 'file');
    assert.equal(entry(ours.patch, 'usr/bin/mmtool-link')?.type, 'hardlink');
    assert.ok(!ours.patch.entries.some((e) => e.path.startsWith('bin/') || e.path === 'bin'));
    assert.equal(entry(ours.patch, 'usr/lib/mmpkg/old')?.type, 'whiteout');
  });
});

describe('patchDpkg() failures', () => {
  it('reports a package without a fixed version and patches the others', async () => {
    const root = await copyRootfs(base);
    scratch.push(root);
    const patch = await patchDpkg({
      tree: createRootfsTree(root),
      request: {
        kind: 'packages',
        packages: [
          { name: 'rmfiles', fixedVersion: '3' },
          { name: 'taker', fixedVersion: '2' },
        ],
      },
      cacheDir: await tempDir(),
      workDir: await tempDir(),
    });
    assert.equal(patch.failed.length, 1);
    assert.equal(patch.failed[0]?.name, 'rmfiles');
    assert.match(patch.failed[0]?.reason ?? '', /no fixed version available.*"2"/);
    assert.deepEqual(
      patch.updated.map((u) => u.name),
      ['taker'],
    );
  });

  it('throws PACKAGE_DATABASE_MISSING for an image without a dpkg database', async () => {
    const empty = await tempDir();
    await mkdir(join(empty, 'etc'), { recursive: true });
    await assert.rejects(
      patchDpkg({
        tree: createRootfsTree(empty),
        request: { kind: 'all' },
        cacheDir: await tempDir(),
        workDir: await tempDir(),
      }),
      (e) => isCopaError(e, 'PACKAGE_DATABASE_MISSING'),
    );
  });

  it('fails with the repository error when a package does not match its hash', async () => {
    const root = await copyRootfs(base);
    scratch.push(root);
    const deb = repo.debs.get('taker_2_all');
    assert.ok(deb !== undefined);
    const original = await readFile(deb);
    const tampered = Buffer.from(original);
    const at = tampered.length - 10;
    tampered[at] = (tampered[at] ?? 0) ^ 0xff;
    await writeFile(deb, tampered);
    try {
      await assert.rejects(
        patchDpkg({
          tree: createRootfsTree(root),
          request: { kind: 'packages', packages: [{ name: 'taker', fixedVersion: '2' }] },
          cacheDir: await tempDir(),
          workDir: await tempDir(),
        }),
        (e) => isCopaError(e, 'REPOSITORY_HASH_MISMATCH'),
      );
    } finally {
      await writeFile(deb, original);
    }
  });
});
