/**
 * `copa patch` end to end with a report file, with `--ignore-errors` and a report asking for a
 * version no repository has, and without `--push` (an OCI layout, reproducible across runs).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startRegistry, type TestRegistry } from '../support/registry.js';
import {
  buildDebianImageLayout,
  pushLayoutToRegistry,
  writeTrivyReports,
  runCommand,
  type DebianImageLayout,
} from '../support/debian-images.js';
import { describeRun, inspectRaw, readJson, runCopa, type IndexEntry } from './copa-harness.js';

const timeout = 30 * 60_000;

async function tagsOf(host: string, repo: string): Promise<string[]> {
  const res = await fetch(`http://${host}/v2/${repo}/tags/list`);
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

describe('copa patch options end to end', { timeout }, () => {
  let registry: TestRegistry;
  let image: DebianImageLayout;
  let work: string;
  let source: string;

  before(async () => {
    image = await buildDebianImageLayout();
    registry = await startRegistry();
    work = await mkdtemp(join(tmpdir(), 'copa-e2e-options-'));
    source = `${registry.host}/demo/debian:bookworm`;
    await pushLayoutToRegistry(image, source);
    await writeTrivyReports({ image, platforms: ['linux/arm64'], outDir: join(work, 'one') });
    await writeTrivyReports({
      image,
      platforms: ['linux/amd64', 'linux/arm64'],
      outDir: join(work, 'bad'),
      edit: (platform, updates) =>
        platform.architecture === 'arm64'
          ? updates.map((u) =>
              u.name === 'openssl' ? { ...u, fixedVersion: '9.9.9-1~deb12u1' } : u,
            )
          : updates,
    });
    await writeTrivyReports({ image, platforms: ['linux/amd64'], outDir: join(work, 'amd64') });
    await writeTrivyReports({
      image,
      platforms: ['linux/amd64'],
      outDir: join(work, 'small'),
      edit: (_platform, updates) =>
        updates.filter((u) => u.name === 'openssl' || u.name === 'libssl3'),
    });
  });

  after(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('--report FILE patches the report platform into a single-platform image', async () => {
    const run = await runCopa([
      'patch',
      '-i',
      source,
      '-r',
      join(work, 'one', 'linux-arm64.json'),
      '-t',
      'arm64-patched',
      '--push',
    ]);
    assert.equal(run.code, 0, describeRun(run));
    const { json } = await inspectRaw(`${registry.host}/demo/debian:arm64-patched`);
    assert.equal(json['mediaType'], 'application/vnd.oci.image.manifest.v1+json');
    const config = JSON.parse(
      await (
        await fetch(
          `http://${registry.host}/v2/demo/debian/blobs/${(json['config'] as { digest: string }).digest}`,
        )
      ).text(),
    ) as { architecture: string; history: { comment?: string; created_by?: string }[] };
    assert.equal(config.architecture, 'arm64');
    assert.equal(config.history.at(-1)?.comment, 'copa patch layer');
    assert.match(config.history.at(-1)?.created_by ?? '', /^copa patch: .*openssl=/);
  });

  test('a version no repository has fails the run and writes no tag', async () => {
    const run = await runCopa([
      'patch',
      '-i',
      source,
      '-r',
      join(work, 'bad'),
      '-t',
      'bad-strict',
      '--push',
    ]);
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.stderr, /openssl/);
    assert.ok(!(await tagsOf(registry.host, 'demo/debian')).includes('bad-strict'));
  });

  test('--mirror replaces the archive of the image sources: a closed one fails the run', async () => {
    const run = await runCopa([
      'patch',
      '-i',
      source,
      '-r',
      join(work, 'amd64'),
      '-t',
      'bad-mirror',
      '--push',
      '--mirror',
      'http://127.0.0.1:1/debian',
    ]);
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.stderr, /127\.0\.0\.1:1\/debian/);
    assert.match(run.stderr, /^linux\/amd64 +failed +- +-$/m);
    assert.ok(!(await tagsOf(registry.host, 'demo/debian')).includes('bad-mirror'));
  });

  test('--ignore-errors goes on past the failing package and writes the tag', async () => {
    const run = await runCopa([
      'patch',
      '-i',
      source,
      '-r',
      join(work, 'bad'),
      '-t',
      'bad-ignored',
      '--push',
      '--ignore-errors',
    ]);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stderr, /openssl/);
    // One summary table, with a row per platform.
    assert.equal(run.stderr.match(/^PLATFORM +STATUS +UPDATED +MANIFEST$/gm)?.length, 1);
    assert.match(run.stderr, /^linux\/amd64 +patched +\d+ +sha256:[0-9a-f]{64}$/m);
    assert.match(run.stderr, /^linux\/arm64\S* +(patched|ignored) /m);
    assert.match(run.stderr, /^linux\/arm\/v7 +kept: no report +- +sha256:[0-9a-f]{64}$/m);
    const before = (await inspectRaw(source)).json['manifests'] as IndexEntry[];
    const after = (await inspectRaw(`${registry.host}/demo/debian:bad-ignored`)).json[
      'manifests'
    ] as IndexEntry[];
    assert.equal(after.length, 3);
    assert.notEqual(after[0]?.digest, before[0]?.digest, 'amd64 patched');
    assert.equal(after[2]?.digest, before[2]?.digest, 'arm/v7 kept');
  });

  test('without --push the result is an OCI layout, with the same digests on a re-run', async () => {
    const digests: string[] = [];
    for (const dir of ['oci-1', 'oci-2']) {
      const ociDir = join(work, dir);
      // The second run names an engine that does not answer: a warning, the layout all the same.
      const loader = dir === 'oci-2' ? ['--loader', 'docker'] : [];
      const env = { DOCKER_HOST: `unix://${join(work, 'no-docker.sock')}` };
      const run = await runCopa(
        ['patch', '-i', source, '-r', join(work, 'amd64'), '--oci-dir', ociDir, ...loader],
        env,
      );
      assert.equal(run.code, 0, describeRun(run));
      if (loader.length > 0) assert.match(run.stderr, /loading nothing: no docker engine answers/);
      // The test registry is on loopback, plain HTTP: the printed command must say so to skopeo.
      assert.match(run.stderr, /skopeo copy --all --dest-tls-verify=false oci:\S+ docker:\/\//);
      const index = await readJson<{ manifests: IndexEntry[] }>(join(ociDir, 'index.json'));
      const entry = index.manifests.find(
        (m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'bookworm-patched',
      );
      assert.ok(entry, `tag bookworm-patched in ${ociDir}`);
      const inner = await readJson<{ manifests: IndexEntry[] }>(
        join(ociDir, 'blobs', 'sha256', entry.digest.slice(7)),
      );
      assert.equal(inner.manifests.length, 3);
      digests.push(entry.digest);
    }
    assert.equal(digests[0], digests[1]);
    assert.ok(!(await tagsOf(registry.host, 'demo/debian')).includes('bookworm-patched'));
  });

  test('patching a copa-patched image again replaces its patch layer', async () => {
    const first = join(work, 'repatch-1');
    const second = join(work, 'repatch-2');
    const small = join(work, 'small', 'linux-amd64.json');
    const run1 = await runCopa(['patch', '-i', image.reference, '-r', small, '--oci-dir', first]);
    assert.equal(run1.code, 0, describeRun(run1));
    const full = join(work, 'amd64', 'linux-amd64.json');
    const run2 = await runCopa([
      'patch',
      '-i',
      `oci:${first}:bookworm-patched`,
      '-r',
      full,
      '-t',
      'twice',
      '--oci-dir',
      second,
    ]);
    assert.equal(run2.code, 0, describeRun(run2));
    const config = JSON.parse(
      await runCommand('skopeo', ['inspect', '--config', `oci:${second}:twice`]),
    ) as { rootfs: { diff_ids: string[] }; history: { comment?: string; created_by?: string }[] };
    assert.equal(config.rootfs.diff_ids.length, 2, 'the base layer and one patch layer');
    assert.equal(config.history.filter((h) => h.comment === 'copa patch layer').length, 1);
    const last = config.history.at(-1)?.created_by ?? '';
    assert.match(last, /openssl=/);
    assert.match(last, /perl-base=/);
  });

  test('--timeout stops the run, writes no tag and leaves no working folder', async () => {
    const folder = join(work, 'scratch');
    await mkdir(folder, { recursive: true });
    const run = await runCopa([
      'patch',
      '-i',
      source,
      '-r',
      join(work, 'bad'),
      '-t',
      'too-slow',
      '--push',
      '--timeout',
      '1s',
      '--working-folder',
      folder,
    ]);
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.stderr, /timed out|time limit/);
    assert.ok(!(await tagsOf(registry.host, 'demo/debian')).includes('too-slow'));
    assert.deepEqual(await readdir(folder), []);
  });

  test('without a report every upgradable package of the chosen platform is updated', async () => {
    const run = await runCopa([
      'patch',
      '-i',
      source,
      '--platform',
      'linux/amd64',
      '-t',
      'all-amd64',
      '--push',
    ]);
    assert.equal(run.code, 0, describeRun(run));
    const before = (await inspectRaw(source)).json['manifests'] as IndexEntry[];
    const after = (await inspectRaw(`${registry.host}/demo/debian:all-amd64`)).json[
      'manifests'
    ] as IndexEntry[];
    assert.notEqual(after[0]?.digest, before[0]?.digest, 'amd64 patched');
    assert.deepEqual(
      after.slice(1).map((m) => m.digest),
      before.slice(1).map((m) => m.digest),
      'the platforms not chosen are kept',
    );
  });
});
