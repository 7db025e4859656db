import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { isCopaError } from '../../src/errors.js';
import {
  blobPath,
  parseLayoutLocation,
  readLayout,
  readLayoutIndexJson,
} from '../../src/image/layout.js';
import { writeLayout } from '../../src/image/layout-writer.js';
import { isImageIndex } from '../../src/image/memory-image.js';
import type { Image, ImageIndex } from '../../src/image/types.js';
import { readMergedFiles } from '../../src/layer/read-merged-files.js';
import { fixtureImage, fixtureIndex, textFile } from './fixture-image.js';

let work: string;
let amd64: Image;
let arm64: Image;
let index: ImageIndex;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'copa-layout-'));
  amd64 = await fixtureImage({
    dir: work,
    layers: [
      [textFile('etc/os-release', 'ID=debian\n'), textFile('etc/x', 'x')],
      [textFile('etc/y', 'y')],
    ],
  });
  arm64 = await fixtureImage({
    dir: work,
    platform: { os: 'linux', architecture: 'arm64' },
    layers: [[textFile('etc/os-release', 'ID=debian-arm\n')]],
  });
  const nested = await fixtureIndex([
    { image: arm64, platform: { os: 'linux', architecture: 'arm64' } },
  ]);
  index = await fixtureIndex(
    [
      { image: amd64, platform: { os: 'linux', architecture: 'amd64' } },
      { image: arm64, platform: { os: 'linux', architecture: 'arm64' } },
      { image: nested },
    ],
    { annotations: { 'org.opencontainers.image.version': '1.0' } },
  );
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

function skopeo(...args: string[]): string {
  return execFileSync('skopeo', ['--insecure-policy', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
}

describe('parseLayoutLocation()', () => {
  const rows: [string, object][] = [
    ['oci:/tmp/x', { dir: '/tmp/x' }],
    ['oci:/tmp/x:1.2-patched', { dir: '/tmp/x', tag: '1.2-patched' }],
    ['out/dir:latest', { dir: 'out/dir', tag: 'latest' }],
  ];
  for (const [text, want] of rows) {
    it(`parses "${text}"`, () => assert.deepEqual(parseLayoutLocation(text), want));
  }
  for (const bad of ['oci:', 'oci::tag', 'oci:/x:bad tag', 'oci:/x:']) {
    it(`rejects "${bad}" with REFERENCE_INVALID`, () => {
      assert.throws(
        () => parseLayoutLocation(bad),
        (e) => isCopaError(e, 'REFERENCE_INVALID'),
      );
    });
  }
});

describe('writeLayout()', () => {
  it('writes a single image that skopeo inspects and umoci unpacks', async () => {
    const dir = join(work, 'single');
    await writeLayout(dir, amd64, { tag: 'v1' });
    const inspected = JSON.parse(skopeo('inspect', `oci:${dir}:v1`)) as Record<string, unknown>;
    assert.equal(inspected['Digest'], await amd64.digest());
    assert.equal(inspected['Architecture'], 'amd64');
    assert.equal((inspected['Layers'] as string[]).length, 2);

    const bundle = join(work, 'bundle');
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${dir}:v1`, bundle], {
      stdio: 'pipe',
    });
    assert.equal(await readFile(join(bundle, 'rootfs/etc/os-release'), 'utf8'), 'ID=debian\n');
    assert.equal(await readFile(join(bundle, 'rootfs/etc/y'), 'utf8'), 'y');
  });

  it('writes a multi-platform index keeping every digest, readable by us and skopeo', async () => {
    const dir = join(work, 'multi');
    const entry = await writeLayout(dir, index, { tag: 'multi' });
    assert.equal(entry.digest, await index.digest());
    assert.equal(
      skopeo('inspect', '--raw', `oci:${dir}:multi`),
      Buffer.from(await index.rawManifest()).toString(),
    );

    const back = await readLayout({ dir, tag: 'multi' });
    assert.ok(isImageIndex(back));
    assert.deepEqual(await back.indexManifest(), await index.indexManifest());
    const arm = await back.image(await arm64.digest());
    assert.equal(await arm.digest(), await arm64.digest());
    const files = await readMergedFiles(await arm.layers(), (p) => p === 'etc/os-release');
    assert.equal(
      Buffer.from(files.get('etc/os-release')?.content ?? []).toString(),
      'ID=debian-arm\n',
    );

    // skopeo copies no nested indexes, so it copies a flat one from the same layout.
    const flat = await fixtureIndex([{ image: amd64 }, { image: arm64 }]);
    await writeLayout(dir, flat, { tag: 'flat' });
    const copy = join(work, 'multi-copy');
    skopeo('copy', '--all', `oci:${dir}:flat`, `oci:${copy}:again`);
    const copied = await readLayoutIndexJson(copy);
    assert.equal(copied.manifests[0]?.digest, await flat.digest());
  });

  it('replaces the entry of the same tag and keeps the others', async () => {
    const dir = join(work, 'retag');
    await writeLayout(dir, amd64, { tag: 'a' });
    await writeLayout(dir, arm64, { tag: 'b' });
    await writeLayout(dir, arm64, { tag: 'a' });
    const json = await readLayoutIndexJson(dir);
    const tags = json.manifests.map((m) => [
      m.annotations?.['org.opencontainers.image.ref.name'],
      m.digest,
    ]);
    assert.deepEqual(tags, [
      ['b', await arm64.digest()],
      ['a', await arm64.digest()],
    ]);
    assert.deepEqual(json.manifests[0]?.platform, { architecture: 'arm64', os: 'linux' });
  });

  it('fails with DIGEST_MISMATCH when a layout blob was changed', async () => {
    const dir = join(work, 'corrupt');
    await writeLayout(dir, amd64, { tag: 'v1' });
    const layer = (await amd64.manifest()).layers[0]!;
    const path = blobPath(dir, layer.digest);
    const bytes = await readFile(path);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 5) ^ 0xff, bytes.length - 5);
    await writeFile(path, bytes);
    const image = (await readLayout({ dir, tag: 'v1' })) as Image;
    const [first] = await image.layers();
    await assert.rejects(
      async () => {
        let count = 0;
        for await (const chunk of await first!.compressed()) count += chunk.byteLength;
        return count;
      },
      (e) => isCopaError(e, 'DIGEST_MISMATCH'),
    );
  });

  it('fails with LAYOUT_INVALID for a missing tag or a directory that is no layout', async () => {
    await assert.rejects(readLayout({ dir: join(work, 'single'), tag: 'nope' }), (e) =>
      isCopaError(e, 'LAYOUT_INVALID'),
    );
    await assert.rejects(readLayout({ dir: join(work, 'nothing') }), (e) =>
      isCopaError(e, 'LAYOUT_INVALID'),
    );
  });
});
