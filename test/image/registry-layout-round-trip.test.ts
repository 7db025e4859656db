import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { isImageIndex, readLayout, writeLayout } from '../../src/image/index.js';
import { pushIndex, remoteManifestOrIndex } from '../../src/image/remote.js';
import type { ImageIndex } from '../../src/image/types.js';
import { parseReference, withDigest } from '../../src/reference/index.js';
import { RegistryClient, anonymousKeychain, digestOf } from '../../src/registry/index.js';
import { randomIndex } from '../support/random-image.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const run = promisify(execFile);

async function childrenOf(index: ImageIndex) {
  const manifests = (await index.indexManifest()).manifests;
  return Promise.all(manifests.map((d) => index.image(d.digest)));
}

describe('a multi-platform index copied registry to layout to registry', () => {
  let first: TestRegistry;
  let second: TestRegistry;
  let client: RegistryClient;
  let dir: string;
  before(async () => {
    [first, second] = await Promise.all([startRegistry(), startRegistry()]);
    client = new RegistryClient({ credentials: anonymousKeychain });
    dir = await mkdtemp(join(tmpdir(), 'copa-round-trip-'));
  });
  after(async () => {
    await client.close();
    await Promise.all([first.stop(), second.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  for (const docker of [false, true]) {
    const kind = docker ? 'Docker manifest list' : 'OCI index';
    test(`keeps every digest of a ${kind}`, async () => {
      const { index, images } = await randomIndex(
        docker ? 31 : 29,
        ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7'],
        { docker },
      );
      const raw = await index.rawManifest();
      const source = parseReference(`${first.host}/round/trip:${docker ? 'docker' : 'oci'}`);
      await pushIndex(client, source, raw, await index.mediaType(), images);

      const pulled = await remoteManifestOrIndex(source, client);
      assert.equal(pulled.kind, 'index');
      if (pulled.kind !== 'index') return;
      const layoutDir = join(dir, docker ? 'docker' : 'oci');
      await writeLayout(layoutDir, pulled.index, { tag: 'v1' });
      // skopeo reads an OCI layout's entries only when they have OCI media types.
      if (!docker) await run('skopeo', ['inspect', '--raw', `oci:${layoutDir}:v1`]);

      const fromLayout = await readLayout({ dir: layoutDir, tag: 'v1' });
      assert.ok(isImageIndex(fromLayout));
      assert.equal(await fromLayout.digest(), digestOf(raw));
      const target = parseReference(`${second.host}/copied/trip:v1`);
      const bytes = await fromLayout.rawManifest();
      const pushed = await pushIndex(client, target, bytes, await fromLayout.mediaType(), [
        ...(await childrenOf(fromLayout)),
      ]);
      assert.equal(pushed.digest, digestOf(raw));

      const copied = await client.getManifest(target);
      assert.equal(copied.digest, digestOf(raw));
      assert.deepEqual(Buffer.from(copied.bytes), Buffer.from(raw));
      for (const image of images) {
        const digest = await image.digest();
        const child = await client.getManifest(withDigest(target, digest));
        assert.deepEqual(Buffer.from(child.bytes), Buffer.from(await image.rawManifest()));
      }
    });
  }
});
