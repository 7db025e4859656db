import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { isCopaError } from '../errors.js';
import { parseReference, withDigest } from '../reference/index.js';
import { RegistryClient, anonymousKeychain } from '../registry/index.js';
import { startFaultProxy, type FaultProxy } from '../../test/support/fault-proxy.js';
import { randomImage, randomIndex } from '../../test/support/random-image.js';
import { startRegistry, type TestRegistry } from '../../test/support/registry.js';
import { pushImage, pushIndex, remoteManifestOrIndex } from './remote.js';
import { MediaType } from './types.js';

describe('remote images and indexes', () => {
  let registry: TestRegistry;
  let proxy: FaultProxy;
  let client: RegistryClient;
  before(async () => {
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.host);
    client = new RegistryClient({
      credentials: anonymousKeychain,
      env: {},
      retry: { baseDelayMs: 5 },
    });
  });
  after(async () => {
    await client.close();
    await proxy.stop();
    await registry.stop();
  });

  test('pushIndex() writes child manifests by digest first and the tag last', async () => {
    const { index, images } = await randomIndex(51, ['linux/amd64', 'linux/arm64/v8'], {
      docker: true,
    });
    const target = parseReference(`${proxy.host}/remote/index:v1`);
    proxy.requests.length = 0;
    const result = await pushIndex(
      client,
      target,
      await index.rawManifest(),
      MediaType.DockerManifestList,
      images,
    );
    assert.equal(result.digest, await index.digest());
    const puts = proxy.requests.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'));
    assert.deepEqual(
      puts.map((r) => r.path.split('/manifests/')[1]?.startsWith('sha256:')),
      [true, true, false],
    );
    assert.ok(proxy.requests.at(-1)?.path.endsWith('/manifests/v1'));
  });

  test('an index reads its children by digest, lazily and once', async () => {
    const ref = parseReference(`${proxy.host}/remote/index:v1`);
    const remote = await remoteManifestOrIndex(ref, client);
    assert.equal(remote.kind, 'index');
    if (remote.kind !== 'index') return;
    const [first] = (await remote.index.indexManifest()).manifests;
    assert.ok(first);
    proxy.requests.length = 0;
    const image = await remote.index.image(first.digest);
    assert.equal(await image.digest(), first.digest);
    assert.equal(await image.mediaType(), MediaType.DockerManifest);
    await Promise.all([image.configFile(), image.configFile(), image.rawConfigFile()]);
    assert.equal(proxy.count('GET', /\/blobs\//), 1, 'the config is fetched once');
    assert.equal(await remote.index.image(first.digest), image, 'the same child each time');
    assert.equal(proxy.count('GET', /\/manifests\//), 1, 'the child manifest is fetched once');

    const layer = (await image.layers())[1];
    assert.ok(layer);
    assert.equal(await image.layerByDigest(await layer.digest()), layer);
    await assert.rejects(image.layerByDigest(`sha256:${'1'.repeat(64)}`), (e) =>
      isCopaError(e, 'LAYER_INVALID'),
    );
    await assert.rejects(remote.index.imageIndex(first.digest), (e) =>
      isCopaError(e, 'MANIFEST_INVALID'),
    );
  });

  test('pushIndex() refuses an index whose children are missing and writes no tag', async () => {
    const { index, images } = await randomIndex(52);
    const target = parseReference(`${registry.host}/remote/partial:v1`);
    await assert.rejects(
      pushIndex(client, target, await index.rawManifest(), MediaType.OciIndex, images.slice(1)),
      (e) => isCopaError(e, 'MANIFEST_INVALID'),
    );
    assert.equal(await client.headManifest(target), undefined);
  });

  test('pushImage() by digest leaves no tag and skips blobs already there', async () => {
    const image = await randomImage(53);
    const repo = parseReference(`${registry.host}/remote/bydigest`, { defaultTag: false });
    const first = await pushImage(client, repo, image);
    assert.equal(first.uploaded, 3);
    assert.equal(await client.headManifest({ ...repo, tag: 'latest' }), undefined);
    const again = await pushImage(client, withDigest(repo, first.digest), image);
    assert.equal(again.existing, 3);
    assert.equal((await client.getManifest(withDigest(repo, first.digest))).digest, first.digest);
  });
});
