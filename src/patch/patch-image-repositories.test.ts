/**
 * `patchImage` with repository overrides: an image whose sources name an unreachable mirror is
 * patched from a signed local repository given as the mirror, trusted through a keyring.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import tar from 'tar-stream';

import { startAptRepository, type AptRepository } from '../../test/support/apt-repo.js';
import { memoryImage, memoryLayer } from '../../test/support/random-image.js';
import { MediaType, writeLayout, type ConfigFile, type Manifest } from '../image/index.js';
import { PatchFailedError, patchImage, type PatchImageOptions } from './index.js';

const status = `Package: hello
Status: install ok installed
Priority: optional
Section: misc
Maintainer: Test <test@example.invalid>
Architecture: amd64
Version: 1.0-1
Description: a test package
`;

const files: Record<string, string> = {
  'etc/os-release': 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
  // Port 1 on loopback refuses connections: the image's own mirror cannot be reached.
  'etc/apt/sources.list': 'deb http://127.0.0.1:1/debian stable main\n',
  'var/lib/dpkg/status': status,
  'var/lib/dpkg/info/hello.list': '/usr/share/hello\n/usr/share/hello/v\n',
  'usr/share/hello/v': '1\n',
};

async function tarOf(entries: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const [name, text] of Object.entries(entries)) {
    pack.entry({ name, mode: 0o644, mtime: new Date(0) }, text);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function writeSourceLayout(dir: string): Promise<void> {
  const layer = memoryLayer(await tarOf(files));
  const config: ConfigFile = {
    os: 'linux',
    architecture: 'amd64',
    created: '2020-01-01T00:00:00Z',
    rootfs: { type: 'layers', diff_ids: [await layer.diffId()] },
    config: {},
  };
  const rawConfig = Buffer.from(JSON.stringify(config));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: {
      mediaType: MediaType.OciConfig,
      digest: `sha256:${createHash('sha256').update(rawConfig).digest('hex')}`,
      size: rawConfig.byteLength,
    },
    layers: [
      {
        mediaType: await layer.mediaType(),
        digest: await layer.digest(),
        size: await layer.size(),
      },
    ],
  };
  const image = memoryImage(Buffer.from(JSON.stringify(manifest)), rawConfig, [layer]);
  await writeLayout(dir, image, { tag: 'v1' });
}

/** The run failed (`PATCH_FAILED`) and its platform's message matches `reason`. */
function failedWith(err: unknown, reason: RegExp): boolean {
  if (!(err instanceof PatchFailedError)) return false;
  const [platform] = err.summary.platforms;
  return platform?.status === 'failed' && reason.test(platform.message ?? '');
}

describe('patchImage() with repository overrides', () => {
  let work: string;
  let repo: AptRepository;
  let options: PatchImageOptions;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'copa-patch-repos-'));
    repo = await startAptRepository({
      packages: [{ name: 'hello', version: '1.0-2', files: { 'usr/share/hello/v': '2\n' } }],
    });
    await writeSourceLayout(join(work, 'source'));
    options = {
      image: `oci:${join(work, 'source')}:v1`,
      push: false,
      ignoreErrors: false,
      scanner: 'trivy',
      compression: 'gzip',
      ociDir: join(work, 'out'),
      cacheDir: join(work, 'cache'),
      workingFolder: work,
    };
  });
  after(async () => {
    await repo?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('fails when the image names a mirror that cannot be reached', async () => {
    await assert.rejects(patchImage(options), (err) => failedWith(err, /127\.0\.0\.1:1\//));
  });

  it('refuses the mirror when its key is not trusted', async () => {
    const run = patchImage({ ...options, repositories: { mirror: repo.url } });
    await assert.rejects(run, (err) => failedWith(err, /not trusted/));
  });

  it('patches from --mirror with --keyring', async () => {
    const summary = await patchImage({
      ...options,
      repositories: { mirror: repo.url, keyrings: [repo.keyringPath] },
    });
    const [platform] = summary.platforms;
    assert.equal(platform?.status, 'patched');
    assert.deepEqual(
      platform?.updated.map((u) => [u.name, u.toVersion]),
      [['hello', '1.0-2']],
    );
    assert.ok(repo.requests.some((r) => r.path.endsWith('.deb') && r.status === 200));
  });
});
