import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { isCopaError } from '../../src/errors.js';
import { remoteManifestOrIndex, pushImage } from '../../src/image/remote.js';
import { parseReference, withDigest } from '../../src/reference/index.js';
import { RegistryClient, anonymousKeychain, digestOf } from '../../src/registry/index.js';
import { randomImage } from '../support/random-image.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

describe('pulling from a registry without auth', () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  before(async () => {
    registry = await startRegistry();
    client = new RegistryClient({ credentials: anonymousKeychain, retry: { baseDelayMs: 10 } });
  });
  after(async () => {
    await client.close();
    await registry.stop();
  });

  test('getManifest() returns the exact bytes pushed, by tag and by digest', async () => {
    const image = await randomImage(1);
    const ref = parseReference(`${registry.host}/pull/one:v1`);
    const pushed = await pushImage(client, ref, image);
    const raw = await image.rawManifest();
    assert.equal(pushed.digest, digestOf(raw));

    const byTag = await client.getManifest(ref);
    assert.deepEqual(Buffer.from(byTag.bytes), Buffer.from(raw));
    assert.equal(byTag.digest, pushed.digest);
    assert.equal(byTag.mediaType, 'application/vnd.oci.image.manifest.v1+json');

    const byDigest = await client.getManifest(withDigest(ref, pushed.digest));
    assert.equal(byDigest.digest, pushed.digest);
    const head = await client.headManifest(ref);
    assert.equal(head?.digest, pushed.digest);
  });

  test('remote image layers stream the blob verified and decompressed', async () => {
    const image = await randomImage(2, { layers: 3 });
    const ref = parseReference(`${registry.host}/pull/two:latest`);
    await pushImage(client, ref, image);
    const remote = await remoteManifestOrIndex(ref, client);
    assert.equal(remote.kind, 'image');
    if (remote.kind !== 'image') return;
    const layers = await remote.image.layers();
    const source = await image.layers();
    assert.equal(layers.length, 3);
    for (const [i, layer] of layers.entries()) {
      const expected = await collect(await source[i]!.uncompressed());
      assert.deepEqual(await collect(await layer.uncompressed()), expected);
      assert.equal(await layer.diffId(), await source[i]!.diffId());
    }
    assert.deepEqual(await remote.image.configFile(), await image.configFile());
  });

  test('a missing tag gives REGISTRY_NOT_FOUND naming the tag', async () => {
    const ref = parseReference(`${registry.host}/pull/one:missing`);
    await assert.rejects(client.getManifest(ref), (err) => {
      assert.ok(isCopaError(err, 'REGISTRY_NOT_FOUND'));
      assert.match(err.message, /missing/);
      assert.match(err.hint ?? '', /tag "missing"/);
      return true;
    });
  });
});
