import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { link, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { isCopaError } from '../errors.js';
import type { Layer } from '../image/types.js';
import { fileLayer, type FileLayer } from './file-layer.js';
import { layersFileTree, listLayerPaths, readMergedFiles } from './read-merged-files.js';
import type { LayerEntry } from './types.js';
import { writeLayer } from './write-layer.js';

let dir: string;
let layers: [FileLayer, ...Layer[]];

const a = { mode: 0o644, uid: 0, gid: 0 };
const d = { mode: 0o755, uid: 0, gid: 0 };

function file(path: string, text: string): LayerEntry {
  return { ...a, type: 'file', path, content: { kind: 'bytes', bytes: Buffer.from(text) } };
}

function directory(path: string): LayerEntry {
  return { ...d, type: 'directory', path };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copa-read-merged-'));
  const bottom = await writeLayer(
    [
      directory('etc'),
      file('etc/a', 'a0'),
      file('etc/b', 'b0'),
      file('etc/keep', 'keep0'),
      file('etc/gone/inside', 'i0'),
      directory('opt/dir'),
      file('opt/dir/x', 'x0'),
      file('opt/dir/y', 'y0'),
      file('usr/lib/f', 'f0'),
      file('var/lib/dpkg/status', 's0'),
      file('data/orig', 'orig0'),
      { ...a, type: 'hardlink', path: 'data/link', target: 'data/orig' },
    ],
    { compression: 'gzip', dir },
  );
  const middle = await writeLayer(
    [
      { type: 'whiteout', path: 'etc/b' },
      { type: 'whiteout', path: 'etc/gone' },
      { type: 'opaque', path: 'opt/dir' },
      directory('opt/dir'),
      file('opt/dir/z', 'z1'),
      { ...a, type: 'symlink', path: 'usr/lib', target: 'lib64' },
      file('var/lib/dpkg/status', 's1'),
      file('etc/b-new', 'bn1'),
    ],
    { compression: 'zstd', dir },
  );
  const top = await writeLayer(
    [
      file('etc/a', 'a2'),
      { ...a, type: 'hardlink', path: 'etc/keep-link', target: 'etc/keep' },
      { type: 'whiteout', path: 'etc/b-new' },
      file('etc/b-new', 'bn2'),
    ],
    { compression: 'uncompressed', dir },
  );
  layers = [bottom, middle, top, await gnuTarLayer()];
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A layer made by GNU tar with a hard-link pair, gzip-compressed. */
async function gnuTarLayer(): Promise<Layer> {
  const root = join(dir, 'gnu-root');
  await mkdir(join(root, 'srv'), { recursive: true });
  await writeFile(join(root, 'srv/first'), 'shared content');
  await link(join(root, 'srv/first'), join(root, 'srv/second'));
  const out = join(dir, 'gnu.tar.gz');
  execFileSync('tar', ['-C', root, '--numeric-owner', '-czf', out, './srv']);
  return fileLayer(out, { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });
}

function contentOf(files: ReadonlyMap<string, { content?: Uint8Array }>, path: string) {
  const content = files.get(path)?.content;
  return content === undefined ? undefined : Buffer.from(content).toString();
}

describe('readMergedFiles()', () => {
  it('returns the topmost version of each selected file', async () => {
    const files = await readMergedFiles(
      layers,
      (p) => p.startsWith('etc/') || p.startsWith('var/'),
    );
    assert.equal(contentOf(files, 'etc/a'), 'a2');
    assert.equal(contentOf(files, 'etc/keep'), 'keep0');
    assert.equal(contentOf(files, 'var/lib/dpkg/status'), 's1');
    assert.equal(files.get('etc/a')?.type, 'file');
    assert.equal(files.get('etc/a')?.mode, 0o644);
  });

  it('hides paths whited out in higher layers but not in their own layer', async () => {
    const files = await readMergedFiles(layers, () => true);
    assert.equal(files.has('etc/b'), false);
    assert.equal(files.has('etc/gone'), false);
    assert.equal(files.has('etc/gone/inside'), false);
    assert.equal(contentOf(files, 'etc/b-new'), 'bn2');
    assert.equal(
      [...files.keys()].some((p) => p.includes('.wh.')),
      false,
    );
  });

  it('hides the lower contents of opaque directories and below replaced directories', async () => {
    const files = await readMergedFiles(layers, () => true);
    assert.equal(files.has('opt/dir/x'), false);
    assert.equal(files.has('opt/dir/y'), false);
    assert.equal(contentOf(files, 'opt/dir/z'), 'z1');
    assert.equal(files.get('opt/dir')?.type, 'directory');
    assert.deepEqual(files.get('usr/lib'), {
      path: 'usr/lib',
      type: 'symlink',
      mode: 0o644,
      uid: 0,
      gid: 0,
      target: 'lib64',
    });
    assert.equal(files.has('usr/lib/f'), false);
  });

  it('resolves hard links to content in the same layer and in lower layers', async () => {
    const files = await readMergedFiles(layers, (p) =>
      ['data/link', 'etc/keep-link', 'srv/second'].includes(p),
    );
    assert.deepEqual([...files.keys()].sort(), ['data/link', 'etc/keep-link', 'srv/second']);
    assert.equal(contentOf(files, 'data/link'), 'orig0');
    assert.equal(contentOf(files, 'etc/keep-link'), 'keep0');
    assert.equal(files.get('etc/keep-link')?.target, 'etc/keep');
    assert.equal(contentOf(files, 'srv/second'), 'shared content');
  });

  it("keeps a hard link's content when a higher layer deletes its target", async () => {
    const remover = await writeLayer([{ type: 'whiteout', path: 'etc/keep' }], {
      compression: 'gzip',
      dir,
    });
    const files = await readMergedFiles([...layers, remover], (p) => p.startsWith('etc/keep'));
    assert.deepEqual([...files.keys()], ['etc/keep-link']);
    assert.equal(contentOf(files, 'etc/keep-link'), 'keep0');
  });

  it('reads nothing but the selected files through a FileTree', async () => {
    const files = await layersFileTree(layers).readFiles((p) => p === 'etc/a');
    assert.deepEqual([...files.keys()], ['etc/a']);
  });
});

describe('readMergedFiles() on damaged layers', () => {
  async function damaged(name: string, change: (b: Buffer) => Buffer, digest?: string) {
    const bytes = await readFile(layers[0].path);
    const path = join(dir, name);
    await writeFile(path, change(Buffer.from(bytes)));
    return fileLayer(path, { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest });
  }

  it('fails with DIGEST_MISMATCH when a layer does not match its digest', async () => {
    const tar = await writeLayer([file('etc/a', 'aaaa')], { compression: 'uncompressed', dir });
    const bytes = await readFile(tar.path);
    const at = bytes.indexOf('aaaa');
    bytes.write('bbbb', at);
    await writeFile(join(dir, 'flipped'), bytes);
    const flipped = fileLayer(join(dir, 'flipped'), {
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      digest: await tar.digest(),
    });
    await assert.rejects(
      readMergedFiles([flipped], () => true),
      (e) => isCopaError(e, 'DIGEST_MISMATCH'),
    );
  });

  it('fails with LAYER_INVALID for a truncated layer or bytes that are no tar', async () => {
    const truncated = await damaged('truncated', (b) => b.subarray(0, b.length - 10));
    const junk = await damaged('junk', () => Buffer.alloc(3000, 65));
    for (const layer of [truncated, junk]) {
      await assert.rejects(
        readMergedFiles([layer], () => true),
        (e) => isCopaError(e, 'LAYER_INVALID'),
      );
    }
  });
});

describe('listLayerPaths()', () => {
  it('lists normalised paths of a GNU tar layer, whiteouts included elsewhere', async () => {
    assert.deepEqual((await listLayerPaths(layers[3]!)).sort(), ['srv', 'srv/first', 'srv/second']);
    assert.ok((await listLayerPaths(layers[1]!)).includes('opt/dir/.wh..wh..opq'));
  });
});
