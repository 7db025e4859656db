import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { lstat, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { writeLayout } from '../../src/image/layout-writer.js';
import { appendLayer } from '../../src/image/mutate.js';
import type { LayerEntry } from '../../src/layer/types.js';
import { writeLayer } from '../../src/layer/write-layer.js';
import { fixtureImage, textFile } from '../image/fixture-image.js';

const root = process.getuid?.() === 0;
const dir = (mode: number, path: string): LayerEntry => ({
  type: 'directory',
  path,
  mode,
  uid: 0,
  gid: 0,
});

function python3(): boolean {
  return spawnSync('python3', ['--version']).status === 0;
}

let work: string;
let rootfs: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'copa-round-trip-'));
  const base = await fixtureImage({
    dir: work,
    layers: [
      [
        dir(0o755, 'etc'),
        textFile('etc/removed', 'old'),
        dir(0o755, 'etc/removed-dir'),
        textFile('etc/removed-dir/file', 'old'),
        dir(0o755, 'opt'),
        dir(0o755, 'opt/app'),
        textFile('opt/app/stale', 'stale'),
        textFile('etc/kept', 'kept'),
      ],
    ],
  });
  const onDisk = join(work, 'payload');
  await writeFile(onDisk, 'payload from disk');
  const patch = await writeLayer(
    [
      { type: 'whiteout', path: 'etc/removed' },
      { type: 'whiteout', path: 'etc/removed-dir' },
      { type: 'opaque', path: 'opt/app' },
      dir(0o755, 'opt/app'),
      textFile('opt/app/fresh', 'fresh'),
      {
        type: 'file',
        path: 'usr/bin/tool',
        mode: 0o4755,
        uid: 0,
        gid: 0,
        content: { kind: 'path', path: onDisk, size: 17 },
      },
      dir(0o755, 'usr'),
      dir(0o755, 'usr/bin'),
      { type: 'symlink', path: 'usr/bin/tool-alias', target: 'tool', mode: 0o777, uid: 0, gid: 0 },
      {
        type: 'hardlink',
        path: 'usr/bin/tool-copy',
        target: 'usr/bin/tool',
        mode: 0o4755,
        uid: 0,
        gid: 0,
      },
      dir(0o755, 'dev'),
      {
        type: 'char-device',
        path: 'dev/null',
        devMajor: 1,
        devMinor: 3,
        mode: 0o666,
        uid: 0,
        gid: 0,
      },
      { type: 'fifo', path: 'dev/pipe', mode: 0o600, uid: 0, gid: 0 },
      {
        type: 'file',
        path: 'home-big-id',
        mode: 0o640,
        uid: 400000,
        gid: 400001,
        content: { kind: 'bytes', bytes: Buffer.from('id') },
      },
      {
        ...textFile('etc/with-xattr', 'x'),
        xattrs: { 'user.copa': Buffer.from('value') },
      } as LayerEntry,
    ],
    { compression: 'gzip', dir: work, mtime: 1700000000 },
  );
  const image = appendLayer(base, patch, { history: { created_by: 'copa test' } });
  const layout = join(work, 'layout');
  await writeLayout(layout, image, { tag: 'patched' });
  const bundle = join(work, 'bundle');
  const args = ['unpack', ...(root ? [] : ['--rootless']), '--image', `${layout}:patched`, bundle];
  execFileSync('umoci', args, { stdio: 'pipe' });
  rootfs = join(bundle, 'rootfs');
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('a written patch layer unpacked by umoci', () => {
  it('deletes whited-out files and directories and clears opaque directories', async () => {
    await assert.rejects(lstat(join(rootfs, 'etc/removed')));
    await assert.rejects(lstat(join(rootfs, 'etc/removed-dir')));
    await assert.rejects(lstat(join(rootfs, 'opt/app/stale')));
    assert.equal(await readFile(join(rootfs, 'opt/app/fresh'), 'utf8'), 'fresh');
    assert.equal(await readFile(join(rootfs, 'etc/kept'), 'utf8'), 'kept');
    await assert.rejects(lstat(join(rootfs, 'opt/app/.wh..wh..opq')));
  });

  it('keeps file content, modes, symlinks and hard links', async () => {
    assert.equal(await readFile(join(rootfs, 'usr/bin/tool'), 'utf8'), 'payload from disk');
    const tool = await lstat(join(rootfs, 'usr/bin/tool'));
    assert.equal(tool.mode & 0o7777, 0o4755);
    assert.equal(tool.mtimeMs, 1700000000 * 1000);
    assert.equal(await readlink(join(rootfs, 'usr/bin/tool-alias')), 'tool');
    assert.equal((await lstat(join(rootfs, 'usr/bin/tool-copy'))).ino, tool.ino);
  });

  it('keeps extended attributes', { skip: python3() ? undefined : 'needs python3' }, () => {
    const script = 'import os, sys; print(os.getxattr(sys.argv[1], "user.copa").decode())';
    const value = execFileSync('python3', ['-c', script, join(rootfs, 'etc/with-xattr')]);
    assert.equal(value.toString().trim(), 'value');
  });

  it(
    'creates devices, fifos and large ids when run as root',
    { skip: root ? undefined : 'needs root' },
    async () => {
      const device = await lstat(join(rootfs, 'dev/null'));
      assert.ok(device.isCharacterDevice());
      assert.equal(device.rdev, (1 << 8) | 3);
      assert.ok((await lstat(join(rootfs, 'dev/pipe'))).isFIFO());
      const big = await lstat(join(rootfs, 'home-big-id'));
      assert.deepEqual([big.uid, big.gid], [400000, 400001]);
    },
  );
});
