import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { forEachTarEntry } from '../../src/layer/tar-entries.js';
import type { LayerEntry } from '../../src/layer/types.js';
import { writeLayer } from '../../src/layer/write-layer.js';

const golden = join(import.meta.dirname, 'testdata/golden/sample-layer.txt');

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copa-golden-layer-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The fixed entries of the golden layer: one of each kind, in no particular order. */
function sampleEntries(): LayerEntry[] {
  const owner = { uid: 0, gid: 0 };
  const bytes = (text: string) => ({ kind: 'bytes' as const, bytes: Buffer.from(text) });
  return [
    {
      ...owner,
      type: 'file',
      path: 'var/lib/dpkg/status',
      mode: 0o644,
      content: bytes('Package: a\n'),
    },
    { ...owner, type: 'directory', path: 'var/lib/dpkg', mode: 0o755 },
    { ...owner, type: 'directory', path: 'var/lib', mode: 0o755 },
    { ...owner, type: 'directory', path: 'var', mode: 0o755 },
    { ...owner, type: 'symlink', path: 'usr/lib/libx.so', target: 'libx.so.1', mode: 0o777 },
    { ...owner, type: 'hardlink', path: 'usr/bin/b', target: 'usr/bin/z', mode: 0o755 },
    { ...owner, type: 'file', path: 'usr/bin/z', mode: 0o755, content: bytes('#!/bin/sh\n') },
    { type: 'whiteout', path: 'usr/share/doc/old' },
    { type: 'opaque', path: 'etc/app' },
    { uid: 70000, gid: 3000000, type: 'file', path: 'home/u/f', mode: 0o600, content: bytes('') },
    { ...owner, type: 'block-device', path: 'dev/sda', devMajor: 8, devMinor: 0, mode: 0o660 },
  ];
}

async function listing(path: string, digest: string): Promise<string> {
  const lines = [`diffId ${digest}`];
  await forEachTarEntry(createReadStream(path), (e) => {
    const mode = e.mode.toString(8).padStart(4, '0');
    const link = e.target === undefined ? '' : ` -> ${e.target}`;
    lines.push(`${e.type} ${mode} ${e.uid}:${e.gid} ${e.size} ${e.path}${link}`);
  });
  return `${lines.join('\n')}\n`;
}

describe('writeLayer() golden layer', () => {
  it('writes the tar recorded in testdata/golden/sample-layer.txt', async () => {
    const layer = await writeLayer(sampleEntries(), {
      compression: 'uncompressed',
      dir,
      mtime: 1700000000,
    });
    const actual = await listing(layer.path, await layer.diffId());
    if (process.env['UPDATE_GOLDEN'] === '1') await writeFile(golden, actual);
    assert.equal(actual, await readFile(golden, 'utf8'));
  });
});
