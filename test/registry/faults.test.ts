import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';

import { isCopaError } from '../../src/errors.js';
import { pushImage } from '../../src/image/remote.js';
import { parseReference } from '../../src/reference/index.js';
import {
  RegistryClient,
  RegistryError,
  anonymousKeychain,
  digestOf,
} from '../../src/registry/index.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { randomImage, seededRandom } from '../support/random-image.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

describe('registry requests through a faulty proxy', () => {
  let registry: TestRegistry;
  let proxy: FaultProxy;
  let client: RegistryClient;
  const blob = Buffer.from(
    Array.from({ length: 20_000 }, seededRandom(7)).map((x) => Math.floor(x * 256)),
  );
  const digest = digestOf(blob);
  let repo: { registry: string; repository: string };
  let ref: ReturnType<typeof parseReference>;

  before(async () => {
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.host);
    repo = { registry: proxy.host, repository: 'faults/app' };
    ref = parseReference(`${proxy.host}/faults/app:v1`);
    client = new RegistryClient({ credentials: anonymousKeychain, retry: { baseDelayMs: 10 } });
    await client.pushBlob(repo, digest, blob.length, () => once(blob));
    await pushImage(client, ref, await randomImage(3));
  });
  after(async () => {
    await client.close();
    await proxy.stop();
    await registry.stop();
  });
  beforeEach(() => {
    proxy.requests.length = 0;
  });

  const manifestPath = /\/v2\/faults\/app\/manifests\/v1$/;
  const blobPath = new RegExp(`/v2/faults/app/blobs/${digest}$`);

  test('a dropped connection is retried', async () => {
    proxy.inject({ kind: 'drop', method: 'GET', path: manifestPath });
    await client.getManifest(ref);
    assert.equal(proxy.count('GET', manifestPath), 2);
  });

  test('a manifest body cut off mid-way is fetched again', async () => {
    proxy.inject({ kind: 'cut', method: 'GET', path: manifestPath });
    const manifest = await client.getManifest(ref);
    assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(proxy.count('GET', manifestPath), 2);
  });

  test('listTags() lists the tags of a repository', async () => {
    assert.deepEqual(await client.listTags(repo), ['v1']);
  });

  test('a 500 answer is retried', async () => {
    proxy.inject({ kind: 'status', status: 500, method: 'GET', path: blobPath, times: 2 });
    assert.deepEqual(await collect(await client.getBlob(repo, digest)), blob);
    assert.equal(proxy.count('GET', blobPath), 3);
  });

  test('a 429 answer is retried after its Retry-After', async () => {
    proxy.inject({
      kind: 'status',
      status: 429,
      retryAfterSeconds: 1,
      method: 'GET',
      path: manifestPath,
    });
    const started = Date.now();
    await client.getManifest(ref);
    assert.ok(Date.now() - started >= 900, 'waited about a second');
    assert.equal(proxy.count('GET', manifestPath), 2);
  });

  test('a blob body cut short by the registry fails with DIGEST_MISMATCH', async () => {
    proxy.inject({ kind: 'truncate', method: 'GET', path: blobPath });
    const stream = await client.getBlob(repo, digest);
    await assert.rejects(collect(stream), (err) => isCopaError(err, 'DIGEST_MISMATCH'));
  });

  test('a connection dropped mid-blob is resumed with a range request', async () => {
    proxy.inject({ kind: 'cut', method: 'GET', path: blobPath });
    assert.deepEqual(
      await collect(await client.getBlob(repo, digest, { size: blob.length })),
      blob,
    );
    assert.equal(proxy.count('GET', blobPath), 2);
  });

  test('a dropped chunk upload is sent again', async () => {
    const data = blob.subarray(0, 10_000);
    const d = digestOf(data);
    proxy.inject({ kind: 'drop', method: 'PATCH', path: /\/blobs\/uploads\//, times: 1 });
    proxy.inject({
      kind: 'status',
      status: 503,
      method: 'PATCH',
      path: /\/blobs\/uploads\//,
      times: 1,
    });
    await client.pushBlob(repo, d, data.length, () => once(data), { chunkSizeBytes: 4096 });
    assert.equal(proxy.count('PATCH', /\/blobs\/uploads\//), 5, 'three chunks, two sent again');
    assert.deepEqual(await collect(await client.getBlob(repo, d)), data);
  });

  test('a failed monolithic upload starts over with a fresh stream', async () => {
    const data = blob.subarray(100, 9000);
    const d = digestOf(data);
    proxy.inject({ kind: 'status', status: 502, method: 'PUT', path: /\/blobs\/uploads\// });
    let opened = 0;
    await client.pushBlob(repo, d, data.length, () => {
      opened++;
      return once(data);
    });
    assert.equal(opened, 2);
    assert.equal(proxy.count('POST', /\/blobs\/uploads\/$/), 2);
    assert.deepEqual(await collect(await client.getBlob(repo, d)), data);
  });

  test('a registry failing every time gives REGISTRY_ERROR with its status', async () => {
    proxy.inject({ kind: 'status', status: 500, method: 'GET', path: manifestPath, times: 5 });
    await assert.rejects(client.getManifest(ref), (err) => {
      assert.ok(err instanceof RegistryError);
      assert.equal(err.code, 'REGISTRY_ERROR');
      assert.equal(err.status, 500);
      assert.deepEqual(err.registryCodes, ['UNAVAILABLE']);
      return true;
    });
    assert.equal(proxy.count('GET', manifestPath), 5);
  });
});
