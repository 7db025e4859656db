import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import tar from 'tar-stream';

import { memoryLayer } from '../../test/support/random-image.js';
import { isCopaError } from '../errors.js';
import type { ByteStream, Layer } from '../image/types.js';
import type { TreeFile } from '../pkgmgr/types.js';
import { indexedLayersFileTree } from './indexed-layers-file-tree.js';
import { readMergedFiles } from './read-merged-files.js';
import { writeLayer } from './write-layer.js';

type Member =
  | { readonly name: string; readonly text: string | Buffer; readonly mode?: number }
  | { readonly name: string; readonly type: 'directory' | 'symlink' | 'link'; linkname?: string };

/** A gzip layer of the members in the order given, repeated paths and all. */
async function rawLayer(members: readonly Member[]): Promise<Layer> {
  const pack = tar.pack();
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  })();
  for (const m of members) {
    if ('text' in m) {
      pack.entry({ name: m.name, mode: m.mode ?? 0o644, uid: 0, gid: 0 }, m.text);
    } else {
      const mode = m.type === 'directory' ? 0o755 : 0o777;
      pack.entry({ name: m.name, type: m.type, linkname: m.linkname, mode, uid: 0, gid: 0 });
    }
  }
  pack.finalize();
  return memoryLayer(await collected);
}

/** The layer with its decompressions counted. */
function counted(layer: Layer): Layer & { readonly reads: () => number } {
  let reads = 0;
  return {
    ...layer,
    reads: () => reads,
    uncompressed: async () => {
      reads += 1;
      return layer.uncompressed();
    },
  };
}

/** Comparable form of a result: content as hex, sorted by path. */
function plain(files: ReadonlyMap<string, TreeFile>) {
  return [...files.values()]
    .map((f) => ({ ...f, content: f.content && Buffer.from(f.content).toString('hex') }))
    .sort((x, y) => (x.path < y.path ? -1 : 1));
}

const big = randomBytes(1536 * 1024 + 123);

let dir: string;
let layers: Layer[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copa-indexed-'));
  const bottom = await rawLayer([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/a', text: 'a0' },
    { name: 'etc/b', text: 'b0' },
    { name: 'etc/keep', text: 'keep0' },
    { name: 'etc/gone/inside', text: 'i0' },
    { name: 'opt/dir/x', text: 'x0' },
    { name: 'opt/dir/y', text: 'y0' },
    { name: 'opt/dir2/child', text: 'c0' },
    { name: 'usr/lib/f', text: 'f0' },
    { name: 'data/orig', text: 'orig0', mode: 0o600 },
    { name: 'data/link', type: 'link', linkname: 'data/orig' },
    { name: 'same/target', text: 'st0' },
    { name: 'same/other', text: 'between' },
    { name: './same/link', type: 'link', linkname: './same/target' },
    { name: 'lower/target', text: 'lt0', mode: 0o750 },
    { name: 'big/blob', text: big },
    { name: 'rep/file', text: 'r1' },
    { name: 'rep/file', text: 'r2' },
    { name: 'empty', text: '' },
  ]);
  const middle = await rawLayer([
    { name: 'etc/.wh.b', text: '' },
    { name: 'etc/.wh.gone', text: '' },
    { name: 'opt/dir/.wh..wh..opq', text: '' },
    { name: 'opt/dir/z', text: 'z1' },
    { name: 'usr/lib', type: 'symlink', linkname: 'lib64' },
    { name: 'up/link', type: 'link', linkname: 'lower/target' },
    { name: 'etc/b-new', text: 'bn1' },
    { name: 'rep2/x', text: 'first' },
    { name: 'rep2/x', text: 'second' },
  ]);
  const top = await rawLayer([
    { name: 'lower/.wh.target', text: '' },
    { name: 'etc/a', text: 'a2' },
    { name: 'etc/keep-link', type: 'link', linkname: 'etc/keep' },
    { name: 'etc/.wh.b-new', text: '' },
    { name: 'etc/b-new', text: 'bn2' },
    { name: 'opt/dir2', text: 'now a file' },
  ]);
  const written = await writeLayer(
    [{ type: 'file', path: 'srv/written', mode: 0o644, uid: 1, gid: 2, content: bytes('w') }],
    { compression: 'zstd', dir },
  );
  layers = [bottom, middle, top, written];
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function bytes(text: string) {
  return { kind: 'bytes', bytes: Buffer.from(text) } as const;
}

const selections: Record<string, (path: string) => boolean> = {
  everything: () => true,
  nothing: () => false,
  'etc only': (p) => p.startsWith('etc/'),
  'a hard link whose target a higher layer whites out': (p) => p === 'up/link',
  'a hard link whose unselected target is in its own layer': (p) => p === 'same/link',
  'hard links and their targets': (p) => p.includes('link') || p.endsWith('orig'),
  'repeated paths': (p) => p.startsWith('rep'),
  'a file larger than a write': (p) => p === 'big/blob',
  'paths below a replaced directory and a symlink': (p) =>
    p.startsWith('opt/') || p.startsWith('usr/'),
  'an empty file and whiteouts': (p) => p === 'empty' || p.includes('.wh.'),
};

let treeDirs = 0;
function treeDir(): string {
  treeDirs += 1;
  return join(dir, `tree-${treeDirs}`);
}

describe('indexedLayersFileTree()', () => {
  it('gives what readMergedFiles gives, on the first read and on later ones', async () => {
    const tree = indexedLayersFileTree(layers, { dir: treeDir() });
    for (const round of ['first', 'second']) {
      for (const [name, select] of Object.entries(selections)) {
        const want = plain(await readMergedFiles(layers, select));
        assert.deepEqual(plain(await tree.readFiles(select)), want, `${round} read: ${name}`);
      }
    }
  });

  it('keeps the content of links and repeated paths as the tars give it', async () => {
    const files = await indexedLayersFileTree(layers, { dir: treeDir() }).readFiles(() => true);
    const text = (p: string) => Buffer.from(files.get(p)?.content ?? []).toString();
    assert.equal(text('up/link'), 'lt0');
    assert.equal(files.get('up/link')?.mode, 0o750);
    assert.equal(text('same/link'), 'st0');
    assert.equal(text('rep/file'), 'r2');
    assert.equal(text('rep2/x'), 'second');
    assert.equal(files.has('lower/target'), false);
    assert.equal(files.has('opt/dir2/child'), false);
    assert.deepEqual(files.get('big/blob')?.content, big);
    assert.equal(files.get('empty')?.content?.byteLength, 0);
  });

  it('decompresses each layer once however often it is read', async () => {
    const watched = layers.map(counted);
    const tree = indexedLayersFileTree(watched, { dir: treeDir() });
    for (const select of Object.values(selections)) await tree.readFiles(select);
    assert.deepEqual(
      watched.map((l) => l.reads()),
      [1, 1, 1, 1],
    );
  });

  it('shares one pass between calls made before the layers are recorded', async () => {
    const watched = layers.map(counted);
    const tree = indexedLayersFileTree(watched, { dir: treeDir() });
    const picks = Object.values(selections);
    const results = await Promise.all(picks.map((select) => tree.readFiles(select)));
    for (const [i, select] of picks.entries()) {
      assert.deepEqual(
        plain(results[i] as Map<string, TreeFile>),
        plain(await readMergedFiles(layers, select)),
      );
    }
    assert.deepEqual(
      watched.map((l) => l.reads()),
      [1, 1, 1, 1],
    );
  });

  it('reads upper layers on top of the index without decompressing the base again', async () => {
    const base = layers.slice(0, 2).map(counted);
    const tree = indexedLayersFileTree(base, { dir: treeDir() });
    await tree.readFiles((p) => p === 'etc/a');
    const patched = tree.withUpperLayers(layers.slice(2));
    for (const select of Object.values(selections)) {
      const want = plain(await readMergedFiles(layers, select));
      assert.deepEqual(plain(await patched.readFiles(select)), want);
    }
    assert.deepEqual(
      base.map((l) => l.reads()),
      [1, 1],
    );
  });

  it('records the layers when an upper-layer tree is read first', async () => {
    const base = layers.slice(0, 3).map(counted);
    const tree = indexedLayersFileTree(base, { dir: treeDir() });
    const both = await Promise.all([
      tree.withUpperLayers(layers.slice(3)).readFiles(() => true),
      tree.readFiles(() => true),
    ]);
    assert.deepEqual(plain(both[0]), plain(await readMergedFiles(layers, () => true)));
    assert.deepEqual(plain(both[1]), plain(await readMergedFiles(layers.slice(0, 3), () => true)));
    assert.deepEqual(
      base.map((l) => l.reads()),
      [1, 1, 1],
    );
  });
});

describe('indexedLayersFileTree() when recording fails', () => {
  /** The layer, whose first decompression is cut short after `keep` bytes. */
  function failingOnce(layer: Layer, keep: number): Layer & { readonly reads: () => number } {
    const watched = counted(layer);
    return {
      ...watched,
      uncompressed: async () => {
        const stream = await watched.uncompressed();
        return watched.reads() === 1 ? truncated(stream, keep) : stream;
      },
    };
  }

  async function* truncated(stream: ByteStream, keep: number): ByteStream {
    let left = keep;
    for await (const chunk of stream) {
      if (left <= 0) return;
      yield chunk.subarray(0, left);
      left -= chunk.byteLength;
    }
  }

  it('rejects the waiting calls with the error and records the layer again later', async () => {
    const bottom = counted(layers[0] as Layer);
    const flaky = failingOnce(layers[1] as Layer, 1500);
    const where = treeDir();
    const tree = indexedLayersFileTree([bottom, flaky], { dir: where });
    const calls = [tree.readFiles(() => true), tree.readFiles((p) => p === 'etc/a')];
    for (const call of calls) {
      await assert.rejects(call, (e) => isCopaError(e, 'LAYER_INVALID'));
    }
    assert.equal((await readdir(where)).length, 1, 'only the complete record is kept');

    const select = selections['everything'] as (path: string) => boolean;
    const want = plain(await readMergedFiles(layers.slice(0, 2), select));
    assert.deepEqual(plain(await tree.readFiles(select)), want);
    assert.equal(bottom.reads(), 1);
    assert.equal(flaky.reads(), 2);
    assert.equal((await readdir(where)).length, 2);
  });

  it('stops when the signal is aborted and keeps no partial record', async () => {
    const controller = new AbortController();
    const layer = counted(layers[0] as Layer);
    const aborting: Layer = {
      ...layer,
      uncompressed: async () => {
        const stream = await layer.uncompressed();
        return (async function* () {
          for await (const chunk of stream) {
            for (let at = 0; at < chunk.byteLength; at += 4096) {
              yield chunk.subarray(at, at + 4096);
              if (at > 64 * 1024) controller.abort(new Error('stop here'));
            }
          }
        })();
      },
    };
    const where = treeDir();
    const tree = indexedLayersFileTree([aborting], { dir: where, signal: controller.signal });
    await assert.rejects(
      tree.readFiles(() => true),
      { message: 'stop here' },
    );
    assert.deepEqual(await readdir(where), []);
    await assert.rejects(
      tree.readFiles(() => true),
      { message: 'stop here' },
    );
    assert.equal(layer.reads(), 1);
  });
});
