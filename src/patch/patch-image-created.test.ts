/** One run has one time: the index entries carry the created time of the manifests they name. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';

import { randomIndex } from '../../test/support/random-image.js';
import { isImageIndex, type Image, type ImageIndex } from '../image/index.js';
import type { PackagePatch } from '../pkgmgr/types.js';
import type { UpdateManifest } from '../report/types.js';
import { runPatch } from './index.js';

const status =
  'Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2-1\n\n';

/** A package manager that updates openssl to 2-1, slowly enough for the clock to move on. */
async function updating(): Promise<PackagePatch> {
  await new Promise((resolve) => setTimeout(resolve, 1100));
  return {
    entries: [
      {
        type: 'file',
        path: 'var/lib/dpkg/status',
        mode: 0o644,
        uid: 0,
        gid: 0,
        content: { kind: 'bytes', bytes: Buffer.from(status) },
      },
    ],
    updated: [{ name: 'openssl', arch: 'amd64', fromVersion: '1-1', toVersion: '2-1' }],
    failed: [],
    held: [],
    scriptsNotRun: [],
  };
}

function reportFor(architecture: string): UpdateManifest {
  return {
    source: `${architecture}.json`,
    scanner: 'trivy',
    os: { family: 'debian', version: '12' },
    platform: { os: 'linux', architecture },
    updates: [
      { name: 'openssl', installedVersion: '1-1', fixedVersion: '2-1', vulnerabilityIds: [] },
    ],
    unfixable: [],
    languagePackages: [],
  };
}

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'copa-patch-created-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

it('gives the index entries the created time of their manifests and configs', async () => {
  const { index } = await randomIndex(7, ['linux/amd64', 'linux/arm64']);
  let result: Image | ImageIndex | undefined;
  await runPatch(
    {
      image: 'oci:/nowhere:v1',
      report: work,
      push: false,
      ignoreErrors: false,
      scanner: 'trivy',
      compression: 'gzip',
      cacheDir: join(work, 'cache'),
      workingFolder: work,
      ociDir: join(work, 'out'),
    },
    {},
    {
      openSource: async () => ({
        kind: 'layout',
        name: 'oci:/nowhere',
        layout: { dir: '/nowhere', tag: 'v1' },
        top: index,
      }),
      readReports: async () => [reportFor('amd64'), reportFor('arm64')],
      patchers: new Map([['debian', updating]]),
      publish: async (request) => {
        result = request.result;
        return {
          target: 'oci:/out:v1',
          digest: 'sha256:0',
          pushed: false,
          ociDir: undefined,
          loaded: [],
          commands: [],
        };
      },
    },
  );
  assert.ok(result !== undefined && isImageIndex(result));
  const top = await result.indexManifest();
  const created = top.annotations?.['org.opencontainers.image.created'];
  assert.ok(created !== undefined);
  for (const entry of top.manifests) {
    assert.equal(entry.annotations?.['org.opencontainers.image.created'], created);
    const image: Image = await result.image(entry.digest);
    assert.equal(
      (await image.manifest()).annotations?.['org.opencontainers.image.created'],
      created,
    );
    assert.equal((await image.configFile()).created, created);
  }
});
