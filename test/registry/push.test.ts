import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { isCopaError } from '../../src/errors.js';
import { pushImage, pushIndex, remoteManifestOrIndex } from '../../src/image/remote.js';
import type { Image } from '../../src/image/types.js';
import { parseReference, withDigest } from '../../src/reference/index.js';
import { RegistryClient, anonymousKeychain, digestOf } from '../../src/registry/index.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { randomImage, randomIndex, seededRandom } from '../support/random-image.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const run = promisify(execFile);

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

function randomBlob(seed: number, size: number): Buffer {
  const random = seededRandom(seed);
  return Buffer.from(Array.from({ length: size }, () => Math.floor(random() * 256)));
}

describe('pushing to a registry', () => {
  let registry: TestRegistry;
  let other: TestRegistry;
  let proxy: FaultProxy;
  let client: RegistryClient;
  before(async () => {
    [registry, other] = await Promise.all([startRegistry(), startRegistry()]);
    proxy = await startFaultProxy(registry.host);
    client = new RegistryClient({ credentials: anonymousKeychain, retry: { baseDelayMs: 10 } });
  });
  after(async () => {
    await client.close();
    await proxy.stop();
    await Promise.all([registry.stop(), other.stop()]);
  });

  test('pushImage() mounts layers from another repository instead of uploading them', async () => {
    const image = await randomImage(10, { layers: 2 });
    await pushImage(client, parseReference(`${proxy.host}/mount/source:v1`), image);
    const uploadsBefore = proxy.count('PUT', /\/blobs\/uploads\//);

    const result = await pushImage(client, parseReference(`${proxy.host}/mount/target:v1`), image, {
      mountFrom: { registry: proxy.host, repository: 'mount/source' },
    });
    assert.equal(result.mounted, 2);
    assert.equal(result.uploaded, 1, 'only the config is uploaded');
    assert.equal(proxy.count('POST', /\/v2\/mount\/target\/blobs\/uploads\/\?mount=/), 2);
    assert.equal(proxy.count('PUT', /\/blobs\/uploads\//) - uploadsBefore, 1);

    const again = await pushImage(client, parseReference(`${proxy.host}/mount/target:v2`), image);
    assert.deepEqual([again.existing, again.uploaded, again.mounted], [3, 0, 0]);
  });

  test('pushImage() mounts layers of a remote image from its own repository', async () => {
    const ref = parseReference(`${registry.host}/auto/source:v1`);
    await pushImage(client, ref, await randomImage(11));
    const remote = await remoteManifestOrIndex(ref, client);
    assert.equal(remote.kind, 'image');
    const image = (remote as { image: Image }).image;
    const result = await pushImage(client, parseReference(`${registry.host}/auto/copy:v1`), image);
    assert.deepEqual([result.mounted, result.existing, result.uploaded], [2, 0, 1]);
    assert.equal(result.digest, await image.digest());
  });

  test('pushBlob() uploads in chunks of chunkSizeBytes', async () => {
    const blob = randomBlob(12, 5000);
    const digest = digestOf(blob);
    const repo = { registry: proxy.host, repository: 'chunked/blob' };
    const patchesBefore = proxy.count('PATCH', /chunked\/blob/);
    const open = async function* () {
      yield blob.subarray(0, 1234);
      yield blob.subarray(1234);
    };
    await client.pushBlob(repo, digest, blob.length, open, { chunkSizeBytes: 1024 });
    assert.equal(proxy.count('PATCH', /chunked\/blob/) - patchesBefore, 5);
    assert.deepEqual(await collect(await client.getBlob(repo, digest)), blob);
  });

  test('pushBlob() reports content that does not match its digest or size as DIGEST_MISMATCH', async () => {
    const repo = { registry: registry.host, repository: 'bad/blob' };
    const digest = digestOf(Buffer.from('expected'));
    const bytes = async function* () {
      yield Buffer.from('abc');
    };
    for (const size of [3, 6]) {
      await assert.rejects(client.pushBlob(repo, digest, size, bytes), (err) =>
        isCopaError(err, 'DIGEST_MISMATCH'),
      );
    }
    assert.equal(await client.blobExists(repo, digest), false);
  });

  test('an index copied to another registry keeps every digest', async () => {
    const { index, images } = await randomIndex(13, [
      'linux/amd64',
      'linux/arm64/v8',
      'linux/arm/v7',
    ]);
    const source = parseReference(`${registry.host}/multi/app:1.0`);
    const raw = await index.rawManifest();
    await pushIndex(client, source, raw, await index.mediaType(), images);

    // One request at a time, reads and uploads on one client: an upload streaming its layer
    // from the source registry must not wait on that read.
    const serial = new RegistryClient({ credentials: anonymousKeychain, concurrency: 1 });
    const remote = await remoteManifestOrIndex(source, serial);
    assert.equal(remote.kind, 'index');
    if (remote.kind !== 'index') return;
    const children = await Promise.all(
      (await remote.index.indexManifest()).manifests.map((d) => remote.index.image(d.digest)),
    );
    const target = parseReference(`${other.host}/copied/app:1.0`);
    const copyBytes = await remote.index.rawManifest();
    const copyType = await remote.index.mediaType();
    const result = await pushIndex(serial, target, copyBytes, copyType, children);
    await serial.close();
    assert.equal(result.digest, digestOf(raw));
    assert.equal(result.uploaded, 9, 'two layers and a config per platform');

    const copied = await client.getManifest(target);
    assert.equal(copied.digest, digestOf(raw));
    for (const image of images) {
      const d = await image.digest();
      assert.equal((await client.getManifest(withDigest(target, d))).digest, d);
    }
    const { stdout } = await run('skopeo', [
      ...['inspect', '--raw', '--tls-verify=false'],
      `docker://${other.host}/copied/app:1.0`,
    ]);
    assert.equal(`sha256:${createHash('sha256').update(stdout).digest('hex')}`, digestOf(raw));
  });
});
