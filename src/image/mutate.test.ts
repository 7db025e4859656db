import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { fixtureImage, fixtureIndex, textFile } from '../../test/image/fixture-image.js';
import { isCopaError } from '../errors.js';
import { writeLayer } from '../layer/write-layer.js';
import { buildIndex, replaceManifests } from './build-index.js';
import { sha256Digest } from './digest.js';
import { appendLayer, removeTopLayers, replaceTopLayers } from './mutate.js';
import { MediaType, type Image, type Layer } from './types.js';

let dir: string;
let base: Image;
let patch: Layer;
const history = { created_by: 'copa patch', comment: 'copa' };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copa-mutate-'));
  base = await fixtureImage({
    dir,
    platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
    layers: [[textFile('a', '1')], [textFile('b', '2')]],
    extraConfig: { 'x-unknown': { kept: true } },
  });
  patch = await writeLayer([textFile('var/lib/dpkg/status', 'patched')], {
    compression: 'gzip',
    dir,
  });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('appendLayer()', () => {
  it('adds the diffId and a history entry and keeps the platform and unknown fields', async () => {
    const created = '2026-01-02T03:04:05Z';
    const image = appendLayer(base, patch, { history, created });
    const config = await image.configFile();
    const old = await base.configFile();
    assert.deepEqual(config.rootfs.diff_ids, [...old.rootfs.diff_ids, await patch.diffId()]);
    assert.deepEqual(config.history?.at(-1), { created, ...history });
    assert.equal(config.created, created);
    assert.equal(config.architecture, 'arm');
    assert.equal(config.variant, 'v7');
    assert.deepEqual(config['x-unknown'], { kept: true });
    assert.deepEqual(config.config, old.config);
  });

  it('writes a manifest whose digests match its exact bytes', async () => {
    const image = appendLayer(base, patch, { history });
    const manifest = await image.manifest();
    assert.equal(await image.digest(), sha256Digest(await image.rawManifest()));
    assert.equal(manifest.config.digest, sha256Digest(await image.rawConfigFile()));
    assert.equal(manifest.config.size, (await image.rawConfigFile()).byteLength);
    assert.equal(manifest.layers.length, 3);
    assert.deepEqual(manifest.layers[2], {
      mediaType: MediaType.OciLayerGzip,
      digest: await patch.digest(),
      size: await patch.size(),
    });
    assert.equal(await image.mediaType(), MediaType.OciManifest);
    assert.equal((await image.layers()).length, 3);
    assert.equal(await image.layerByDigest(await patch.digest()), patch);
  });

  it('gives the same digest when done twice', async () => {
    const a = appendLayer(base, patch, { history, created: '2026-01-01T00:00:00Z' });
    const b = appendLayer(base, patch, { history, created: '2026-01-01T00:00:00Z' });
    assert.equal(await a.digest(), await b.digest());
  });

  it('keeps a Docker image Docker, translating the layer media type', async () => {
    const docker = await fixtureImage({ dir, family: 'docker' });
    const image = appendLayer(docker, patch, { history, annotations: { a: 'b' } });
    const manifest = await image.manifest();
    assert.equal(await image.mediaType(), MediaType.DockerManifest);
    assert.equal(manifest.config.mediaType, MediaType.DockerConfig);
    assert.equal(manifest.layers.at(-1)?.mediaType, MediaType.DockerLayerGzip);
    assert.equal(manifest.annotations, undefined);
  });

  it('refuses a zstd layer on a Docker image with MEDIA_TYPE_UNSUPPORTED', async () => {
    const docker = await fixtureImage({ dir, family: 'docker' });
    const zstd = await writeLayer([textFile('x', 'y')], { compression: 'zstd', dir });
    await assert.rejects(appendLayer(docker, zstd, { history }).digest(), (e) =>
      isCopaError(e, 'MEDIA_TYPE_UNSUPPORTED'),
    );
  });

  it('merges annotations into an OCI manifest', async () => {
    const image = appendLayer(base, patch, {
      history,
      annotations: { 'sh.copa.image.patched': 't' },
    });
    assert.deepEqual((await image.manifest()).annotations, { 'sh.copa.image.patched': 't' });
  });
});

describe('removeTopLayers()', () => {
  it('gives back the base image after appendLayer', async () => {
    const image = removeTopLayers(appendLayer(base, patch, { history }), 1);
    assert.equal(await image.digest(), await base.digest());
    assert.deepEqual(await image.rawConfigFile(), await base.rawConfigFile());
  });

  it('drops empty history entries above the removed layers', async () => {
    const labelled = await fixtureImage({
      dir,
      layers: [[textFile('a', '1')], [textFile('b', '2')]],
      extraConfig: {
        history: [
          { created_by: 'step 0' },
          { created_by: 'ENV x=y', empty_layer: true },
          { created_by: 'step 1' },
          { created_by: 'LABEL a=b', empty_layer: true },
        ],
      },
    });
    const image = removeTopLayers(labelled, 1);
    assert.deepEqual((await image.configFile()).history, [
      { created_by: 'step 0' },
      { created_by: 'ENV x=y', empty_layer: true },
    ]);
    assert.equal((await image.manifest()).layers.length, 1);
  });

  it('fails with MANIFEST_INVALID when asked for more layers than there are', async () => {
    await assert.rejects(removeTopLayers(base, 3).manifest(), (e) =>
      isCopaError(e, 'MANIFEST_INVALID'),
    );
  });
});

describe('replaceTopLayers()', () => {
  it('swaps a previous patch layer for a new one', async () => {
    const first = appendLayer(base, patch, { history });
    const second = await writeLayer([textFile('var/lib/dpkg/status', 'again')], {
      compression: 'gzip',
      dir,
    });
    const repatched = replaceTopLayers(first, 1, [{ layer: second, history }]);
    const config = await repatched.configFile();
    assert.equal(config.rootfs.diff_ids.length, 3);
    assert.equal(config.rootfs.diff_ids[2], await second.diffId());
    assert.equal(config.history?.length, 3);
  });
});

describe('buildIndex()', () => {
  it('replaces and drops entries, keeping order, media type and annotations', async () => {
    const arm = await fixtureImage({ dir, platform: { os: 'linux', architecture: 'arm64' } });
    const index = await fixtureIndex(
      [
        { image: base, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
        { image: arm, platform: { os: 'linux', architecture: 'arm64' } },
      ],
      { annotations: { keep: 'me' } },
    );
    const patched = appendLayer(base, patch, { history });
    const newDescriptor = {
      mediaType: MediaType.OciManifest,
      digest: await patched.digest(),
      size: (await patched.rawManifest()).byteLength,
    };
    const built = buildIndex(
      await index.rawManifest(),
      new Map([[await base.digest(), { descriptor: newDescriptor }]]),
      { annotations: { 'sh.copa.patched': 'now' } },
    );
    assert.equal(built.manifest.mediaType, MediaType.OciIndex);
    assert.deepEqual(built.manifest.annotations, { keep: 'me', 'sh.copa.patched': 'now' });
    assert.deepEqual(
      built.manifest.manifests.map((m) => m.digest),
      [newDescriptor.digest, await arm.digest()],
    );
    assert.deepEqual(built.manifest.manifests[0]?.platform, {
      os: 'linux',
      architecture: 'arm',
      variant: 'v7',
    });
    assert.equal(built.digest, sha256Digest(built.rawManifest));

    const dropped = buildIndex(await index.rawManifest(), new Map(), {
      dropDigests: new Set([await arm.digest()]),
    });
    assert.equal(dropped.manifest.manifests.length, 1);
  });

  it('resolves replaced children and falls back to the base index for the rest', async () => {
    const arm = await fixtureImage({ dir, platform: { os: 'linux', architecture: 'arm64' } });
    const index = await fixtureIndex([{ image: base }, { image: arm }]);
    const patched = appendLayer(base, patch, { history });
    const replaced = replaceManifests(index, new Map([[await base.digest(), patched]]));
    const digests = (await replaced.indexManifest()).manifests.map((m) => m.digest);
    assert.deepEqual(digests, [await patched.digest(), await arm.digest()]);
    assert.equal(await replaced.image(await patched.digest()), patched);
    assert.equal(await (await replaced.image(await arm.digest())).digest(), await arm.digest());
  });
});
