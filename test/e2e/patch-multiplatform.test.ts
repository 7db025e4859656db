/**
 * The product's main job, end to end: a real three-platform Debian bookworm image in a real
 * registry, Trivy reports for amd64 and arm64 naming real bookworm-security versions, and the
 * `copa` command line patching, pushing and writing VEX; the results are unpacked and checked
 * with the images' own dpkg and apt.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startRegistry, type TestRegistry } from '../support/registry.js';
import {
  buildDebianImageLayout,
  pushLayoutToRegistry,
  writeTrivyReports,
  type DebianImageLayout,
  type TrivyReportFile,
} from '../support/debian-images.js';
import {
  checkDebianRootfs,
  describeRun,
  inChroot,
  inspectRaw,
  readJson,
  runCopa,
  unpackImage,
  type IndexEntry,
  type ManifestJson,
} from './copa-harness.js';

const timeout = 30 * 60_000;

describe('copa patch --report DIR --push on a three-platform image', { timeout }, () => {
  let registry: TestRegistry;
  let image: DebianImageLayout;
  let work: string;
  let reports: TrivyReportFile[];
  let source: string;

  before(async () => {
    image = await buildDebianImageLayout();
    registry = await startRegistry();
    work = await mkdtemp(join(tmpdir(), 'copa-e2e-'));
    source = `${registry.host}/demo/debian:bookworm`;
    await pushLayoutToRegistry(image, source);
    reports = await writeTrivyReports({
      image,
      platforms: ['linux/amd64', 'linux/arm64'],
      outDir: join(work, 'reports'),
    });
  });

  after(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('patches amd64 and arm64, keeps arm/v7 and writes the tag and VEX', async () => {
    for (const r of reports) assert.ok(r.updates.length > 0, `no pending update for ${r.path}`);
    const vex = join(work, 'vex.json');
    const run = await runCopa([
      'patch',
      '-i',
      source,
      '-r',
      join(work, 'reports'),
      '--tag',
      'bookworm-patched',
      '--push',
      '-f',
      'openvex',
      '-o',
      vex,
    ]);
    assert.equal(run.code, 0, describeRun(run));
    const target = `${registry.host}/demo/debian:bookworm-patched`;
    const { json: index, digest } = await inspectRaw(target);
    assert.match(run.stdout, new RegExp(`${target}@${digest}`));

    const { json: original } = await inspectRaw(source);
    const before = original['manifests'] as IndexEntry[];
    const entries = index['manifests'] as IndexEntry[];
    assert.deepEqual(
      entries.map((e) => e.platform),
      before.map((e) => e.platform),
      'same platforms, same order',
    );
    assert.equal(index['mediaType'], original['mediaType']);
    assert.equal(entries[2]?.digest, before[2]?.digest, 'arm/v7 kept byte for byte');
    assert.ok((index['annotations'] as Record<string, string>)['org.opencontainers.image.created']);

    for (const i of [0, 1]) {
      const patched = entries[i] as IndexEntry;
      assert.notEqual(patched.digest, before[i]?.digest);
      const old = (await inspectRaw(`${registry.host}/demo/debian@${before[i]?.digest}`))
        .json as unknown as ManifestJson;
      const now = (await inspectRaw(`${registry.host}/demo/debian@${patched.digest}`))
        .json as unknown as ManifestJson;
      assert.equal(now.layers.length, old.layers.length + 1, 'original layers plus one');
      assert.deepEqual(now.layers.slice(0, -1), old.layers);
    }

    const document = await readJson<{ statements: { products: { '@id': string }[] }[] }>(vex);
    const products = JSON.stringify(document.statements.map((s) => s.products));
    for (const i of [0, 1])
      assert.ok(products.includes(entries[i]?.digest ?? '-'), 'VEX names both');
  });

  for (const [i, name] of [
    [0, 'amd64'],
    [1, 'arm64'],
  ] as const) {
    test(`the patched ${name} file system passes dpkg and apt checks`, async () => {
      const target = `${registry.host}/demo/debian:bookworm-patched`;
      const entry = ((await inspectRaw(target)).json['manifests'] as IndexEntry[])[i] as IndexEntry;
      const unpacked = await unpackImage(`${registry.host}/demo/debian@${entry.digest}`);
      try {
        const report = reports[i] as TrivyReportFile;
        const names = report.updates.map((u) => u.name);
        const result = await checkDebianRootfs(unpacked.rootfs, names);
        assert.equal(result.audit.trim(), '', 'dpkg --audit');
        assert.equal(result.verify.trim(), '', 'dpkg --verify');
        for (const u of report.updates) {
          assert.equal(
            result.versions.get(u.name),
            u.fixedVersion,
            `${u.name} at the fixed version`,
          );
        }
        const openssl = report.updates.find((u) => u.name === 'openssl');
        const version = await inChroot(unpacked.rootfs, ['openssl', 'version']);
        if (openssl !== undefined) {
          const upstream = openssl.fixedVersion.replace(/-.*$/, '');
          assert.match(version, new RegExp(`OpenSSL ${upstream.replace(/\./g, '\\.')}`));
        }
      } finally {
        await unpacked.cleanup();
      }
    });
  }

  test('a second run on the patched image finds it up to date and writes no tag', async () => {
    const run = await runCopa([
      'patch',
      '-i',
      `${registry.host}/demo/debian:bookworm-patched`,
      '-r',
      join(work, 'reports'),
      '--tag',
      'bookworm-twice',
      '--push',
    ]);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stderr, /up to date/);
    const tags = await fetch(`http://${registry.host}/v2/demo/debian/tags/list`).then((r) =>
      r.json(),
    );
    assert.ok(!(tags as { tags: string[] }).tags.includes('bookworm-twice'));
  });
});
