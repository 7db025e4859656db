import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { isCopaError } from '../errors.js';
import { MediaType } from '../image/types.js';
import type { LayerEntry } from './types.js';
import { writeLayer } from './write-layer.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copa-write-layer-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const attrs = { mode: 0o755, uid: 0, gid: 0 };

async function sampleEntries(): Promise<LayerEntry[]> {
  const onDisk = join(dir, 'on-disk.txt');
  await writeFile(onDisk, 'from disk\n');
  return [
    {
      ...attrs,
      type: 'file',
      path: 'usr/bin/tool',
      content: { kind: 'path', path: onDisk, size: 10 },
    },
    { ...attrs, type: 'directory', path: 'usr/bin' },
    { ...attrs, type: 'directory', path: 'usr' },
    { ...attrs, type: 'symlink', path: 'usr/bin/alias', target: 'tool' },
    { ...attrs, type: 'hardlink', path: 'usr/bin/same', target: 'usr/bin/tool' },
    { ...attrs, type: 'char-device', path: 'dev-null', devMajor: 1, devMinor: 3 },
    { ...attrs, type: 'fifo', path: 'pipe' },
    { type: 'whiteout', path: 'usr/bin/old' },
    { type: 'opaque', path: 'usr' },
    {
      mode: 0o600,
      uid: 300000,
      gid: 3000000,
      type: 'file',
      path: 'home/big-ids',
      content: { kind: 'bytes', bytes: Buffer.from('x') },
    },
    { mode: 0, uid: 0, gid: 42, type: 'file', path: 'etc/gshadow', content: bytes('') },
    {
      ...attrs,
      type: 'file',
      path: 'usr/bin/ping',
      content: { kind: 'stream', size: 3, open: () => chunks('pi', 'n') },
      xattrs: { 'security.capability': Uint8Array.from([1, 0, 0, 2, 0x20, 0xff, 0x80]) },
    },
    { ...attrs, type: 'file', path: `${'d'.repeat(120)}/${'f'.repeat(120)}`, content: bytes('z') },
  ];
}

async function* chunks(...parts: string[]) {
  for (const part of parts) yield Buffer.from(part);
}

function bytes(text: string | Buffer) {
  return { kind: 'bytes' as const, bytes: Buffer.from(text) };
}

function asBytes(path: string, text: string | Buffer): LayerEntry {
  return { ...attrs, type: 'file', path, content: bytes(text) };
}

/** A file whose content is `size` bytes of `file` from `offset` on. */
function ranged(path: string, file: string, offset: number, size: number): LayerEntry {
  const range = { path: file, offset };
  return {
    ...attrs,
    type: 'file',
    path,
    content: { kind: 'stream', size, open: () => chunks(), range },
  };
}

function sha256sum(command: string): string {
  return `sha256:${execFileSync('sh', ['-c', `${command} | sha256sum`])
    .toString()
    .slice(0, 64)}`;
}

describe('writeLayer()', () => {
  it('writes the same digest twice for the same entries in another order', async () => {
    const entries = await sampleEntries();
    const a = await writeLayer(entries, { compression: 'gzip', dir, mtime: 1700000000 });
    const b = await writeLayer([...entries].reverse(), {
      compression: 'gzip',
      dir,
      mtime: 1700000000,
    });
    assert.equal(await a.digest(), await b.digest());
    assert.equal(await a.diffId(), await b.diffId());
    assert.equal(await a.mediaType(), MediaType.OciLayerGzip);
  });

  it('reports a digest and diffId matching sha256sum of the file and of gzip -dc', async () => {
    const layer = await writeLayer(await sampleEntries(), { compression: 'gzip', dir });
    assert.equal(await layer.digest(), sha256sum(`cat ${layer.path}`));
    assert.equal(await layer.diffId(), sha256sum(`gzip -dc ${layer.path}`));
    assert.equal(await layer.size(), (await readFile(layer.path)).byteLength);
  });

  it('writes zstd that zstd -dc reads, and tars whose diffId is their digest', async () => {
    const zstd = await writeLayer(await sampleEntries(), { compression: 'zstd', dir });
    const plain = await writeLayer(await sampleEntries(), { compression: 'uncompressed', dir });
    assert.equal(await zstd.diffId(), sha256sum(`zstd -dc ${zstd.path}`));
    assert.equal(await zstd.diffId(), await plain.digest());
    assert.equal(await plain.digest(), await plain.diffId());
    assert.equal(await zstd.mediaType(), MediaType.OciLayerZstd);
  });

  it('writes every entry type so that GNU tar lists them as given', async () => {
    const layer = await writeLayer(await sampleEntries(), {
      compression: 'uncompressed',
      dir,
      mtime: 0,
    });
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', layer.path]).toString();
    const lines = listing.trim().split('\n');
    const names = lines.map((l) => l.split(/\s+/).slice(5).join(' '));
    assert.deepEqual(names, [
      `${'d'.repeat(120)}/${'f'.repeat(120)}`,
      'dev-null',
      'etc/gshadow',
      'home/big-ids',
      'pipe',
      'usr/',
      'usr/.wh..wh..opq',
      'usr/bin/',
      'usr/bin/.wh.old',
      'usr/bin/alias -> tool',
      'usr/bin/ping',
      'usr/bin/tool',
      'usr/bin/same link to usr/bin/tool',
    ]);
    const byName = (n: string) => lines.find((l) => l.split(/\s+/)[5] === n) ?? '';
    assert.match(byName('dev-null'), /^crwxr-xr-x 0\/0\s+1,3 /);
    assert.match(byName('etc/gshadow'), /^-{10} 0\/42 /);
    assert.match(byName('home/big-ids'), /^-rw------- 300000\/3000000 /);
    assert.match(byName('pipe'), /^prwxr-xr-x/);
    assert.match(byName('usr/bin/tool'), / 10 1970-01-01 00:00 /);
  });

  it('writes xattrs as binary SCHILY.xattr PAX records', async () => {
    const layer = await writeLayer(await sampleEntries(), { compression: 'uncompressed', dir });
    const tar = await readFile(layer.path);
    const key = Buffer.from(' SCHILY.xattr.security.capability=');
    const at = tar.indexOf(key);
    assert.ok(at > 0);
    const value = tar.subarray(at + key.byteLength, at + key.byteLength + 7);
    assert.deepEqual([...value], [1, 0, 0, 2, 0x20, 0xff, 0x80]);
    assert.equal(tar.indexOf('atime='), -1);
    assert.equal(tar.indexOf('ctime='), -1);
  });

  it('writes Docker media types when asked, and refuses zstd for Docker', async () => {
    const entries = await sampleEntries();
    const gz = await writeLayer(entries, { compression: 'gzip', dir, mediaTypeFamily: 'docker' });
    assert.equal(await gz.mediaType(), MediaType.DockerLayerGzip);
    await assert.rejects(
      writeLayer(entries, { compression: 'zstd', dir, mediaTypeFamily: 'docker' }),
      (e) => isCopaError(e, 'MEDIA_TYPE_UNSUPPORTED'),
    );
  });

  it('writes ranged stream contents as the bytes their file holds at the range', async () => {
    const spool = join(dir, 'spool');
    const big = randomBytes(2.5 * 1024 * 1024);
    await writeFile(spool, Buffer.concat([Buffer.from('headtail'), big]));
    const options = { compression: 'uncompressed', dir, mtime: 1700000000 } as const;
    const expected = await writeLayer(
      [asBytes('a', 'tail'), asBytes('b', ''), asBytes('c', big)],
      options,
    );
    const actual = await writeLayer(
      [ranged('a', spool, 4, 4), ranged('b', spool, 2, 0), ranged('c', spool, 8, big.length)],
      options,
    );
    assert.equal(await actual.digest(), await expected.digest());
    await assert.rejects(writeLayer([ranged('a', spool, 8, big.length + 1)], options), (e) =>
      isCopaError(e, 'LAYER_INVALID'),
    );
  });

  it('writes ranged contents from more files than it keeps open, some read twice', async () => {
    const files = Array.from({ length: 40 }, (_, i) => join(dir, `spool-${i}`));
    await Promise.all(files.map((path, i) => writeFile(path, `..${i}`)));
    const order = [...files.keys(), 0, 1, 39];
    const options = { compression: 'uncompressed', dir, mtime: 1700000000 } as const;
    const expected = order.map((i, n) => asBytes(`f${n}`, String(i)));
    const actual = order.map((i, n) => ranged(`f${n}`, files[i]!, 2, String(i).length));
    assert.equal(
      await (await writeLayer(actual, options)).digest(),
      await (await writeLayer(expected, options)).digest(),
    );
  });

  it('fails with LAYER_INVALID for a wrong content size or a bad path', async () => {
    const cases: LayerEntry[][] = [
      [
        {
          ...attrs,
          type: 'file',
          path: 'a',
          content: { kind: 'stream', size: 2, open: () => chunks() },
        },
      ],
      [
        { ...attrs, type: 'file', path: 'a', content: { kind: 'bytes', bytes: Buffer.from('x') } },
        { ...attrs, type: 'directory', path: 'a' },
      ],
      [{ ...attrs, type: 'directory', path: '/etc' }],
      [{ ...attrs, type: 'directory', path: 'etc/../x' }],
    ];
    for (const entries of cases) {
      await assert.rejects(writeLayer(entries, { compression: 'gzip', dir }), (e) =>
        isCopaError(e, 'LAYER_INVALID'),
      );
    }
  });
});
