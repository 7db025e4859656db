import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { isCopaError } from '../../src/errors.js';
import {
  listDockerArchiveTags,
  readDockerArchive,
  writeDockerArchive,
} from '../../src/image/docker-archive.js';
import { readLayout } from '../../src/image/layout.js';
import { writeLayout } from '../../src/image/layout-writer.js';
import type { Image } from '../../src/image/types.js';
import { readMergedFiles } from '../../src/layer/read-merged-files.js';
import { fixtureImage, textFile } from './fixture-image.js';

let work: string;
let oci: Image;
let docker: Image;
let archive: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'copa-docker-archive-'));
  oci = await fixtureImage({
    dir: work,
    layers: [[textFile('etc/os-release', 'ID=oci\n')], [textFile('etc/extra', 'e')]],
  });
  docker = await fixtureImage({
    dir: work,
    family: 'docker',
    layers: [[textFile('etc/os-release', 'ID=docker\n')]],
  });
  archive = join(work, 'images.tar');
  await writeDockerArchive(archive, [
    { image: oci, tags: ['example.test/app:1.0-patched'] },
    { image: docker, tags: ['example.test/other:2'] },
  ]);
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

function skopeo(...args: string[]): string {
  return execFileSync('skopeo', ['--insecure-policy', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
}

async function osRelease(image: Image): Promise<string> {
  const files = await readMergedFiles(await image.layers(), (p) => p === 'etc/os-release');
  return Buffer.from(files.get('etc/os-release')?.content ?? []).toString();
}

describe('writeDockerArchive()', () => {
  it('writes an archive skopeo inspects, with the config and layers of each image', async () => {
    const inspected = JSON.parse(
      skopeo('inspect', `docker-archive:${archive}:example.test/app:1.0-patched`),
    ) as {
      Layers: string[];
      Architecture: string;
      RepoTags: string[];
    };
    assert.equal(inspected.Architecture, 'amd64');
    assert.equal(inspected.Layers.length, 2);

    const config = JSON.parse(
      skopeo('inspect', '--config', `docker-archive:${archive}:example.test/other:2`),
    ) as {
      rootfs: { diff_ids: string[] };
    };
    assert.deepEqual(config.rootfs.diff_ids, (await docker.configFile()).rootfs.diff_ids);
  });

  it('writes an archive skopeo copies into a layout with the same files', async () => {
    const dir = join(work, 'from-archive');
    skopeo('copy', `docker-archive:${archive}:example.test/app:1.0-patched`, `oci:${dir}:copied`);
    const copied = (await readLayout({ dir, tag: 'copied' })) as Image;
    assert.equal(await osRelease(copied), 'ID=oci\n');
    assert.deepEqual(
      (await copied.configFile()).rootfs.diff_ids,
      (await oci.configFile()).rootfs.diff_ids,
    );
  });
});

describe('readDockerArchive()', () => {
  it('reads back each image by tag with its exact config bytes and files', async () => {
    assert.deepEqual(await listDockerArchiveTags(archive), [
      ['example.test/app:1.0-patched'],
      ['example.test/other:2'],
    ]);
    const image = readDockerArchive(archive, { tag: 'example.test/other:2' });
    assert.deepEqual(await image.rawConfigFile(), await docker.rawConfigFile());
    assert.equal(await osRelease(image), 'ID=docker\n');
    const [layer] = await image.layers();
    assert.equal(await layer!.digest(), (await docker.manifest()).layers[0]!.digest);
    assert.equal(await layer!.diffId(), (await docker.configFile()).rootfs.diff_ids[0]);
  });

  it('reads an archive skopeo wrote, computing digests of its uncompressed layers', async () => {
    const layout = join(work, 'for-skopeo');
    await writeLayout(layout, oci, { tag: 'src' });
    const out = join(work, 'skopeo.tar');
    skopeo('copy', `oci:${layout}:src`, `docker-archive:${out}:example.test/s:1`);
    const image = readDockerArchive(out);
    assert.equal(await osRelease(image), 'ID=oci\n');
    const [layer] = await image.layers();
    assert.equal(await layer!.diffId(), (await oci.configFile()).rootfs.diff_ids[0]);
  });

  it('fails with ARCHIVE_INVALID for an unknown tag, a missing tag, or no tar', async () => {
    await assert.rejects(readDockerArchive(archive, { tag: 'nope:1' }).manifest(), (e) =>
      isCopaError(e, 'ARCHIVE_INVALID'),
    );
    await assert.rejects(readDockerArchive(archive).manifest(), (e) =>
      isCopaError(e, 'ARCHIVE_INVALID'),
    );
    const junk = join(work, 'junk.tar');
    await writeFile(junk, Buffer.alloc(2048, 7));
    await assert.rejects(readDockerArchive(junk).manifest(), (e) =>
      isCopaError(e, 'ARCHIVE_INVALID'),
    );
  });
});
