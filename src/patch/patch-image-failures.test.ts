/**
 * How a run reports packages it cannot fix and OSes it cannot patch: once per package, with
 * the version asked, and a final error that names the image.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import tar from 'tar-stream';

import { memoryImage, memoryLayer } from '../../test/support/random-image.js';
import { MediaType, writeLayout, type ConfigFile, type Manifest } from '../image/index.js';
import type { Logger } from '../log.js';
import type { PackagePatch } from '../pkgmgr/types.js';
import { RegistryClient } from '../registry/index.js';
import type { OsFamily, UpdateManifest } from '../report/types.js';
import { openSource } from './open-source.js';
import { PatchFailedError, runPatch, type PatchDeps, type PatchImageOptions } from './index.js';

const newest =
  'no fixed version available in the configured repositories: newest is "3.0.22-1~deb12u2"';

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
  const layer = memoryLayer(await tarOf({ 'etc/os-release': 'ID=debian\n' }));
  const config: ConfigFile = {
    os: 'linux',
    architecture: 'amd64',
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
  await writeLayout(dir, memoryImage(Buffer.from(JSON.stringify(manifest)), rawConfig, [layer]), {
    tag: 'v1',
  });
}

function report(family: OsFamily): UpdateManifest {
  return {
    source: 'report.json',
    scanner: 'trivy',
    os: { family, version: '12' },
    platform: { os: 'linux', architecture: 'amd64' },
    updates: [
      {
        name: 'openssl',
        installedVersion: '3.0.1-1',
        fixedVersion: '9.9.9-1',
        vulnerabilityIds: ['CVE-1'],
      },
    ],
    unfixable: [],
    languagePackages: [],
  };
}

/** A package manager that finds no fixed version of anything. */
async function unfixable(): Promise<PackagePatch> {
  return {
    entries: [],
    updated: [],
    failed: [{ name: 'openssl', fixedVersion: '9.9.9-1', reason: newest }],
    held: [],
    scriptsNotRun: [],
  };
}

function recorder(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger = { debug: () => {}, info: () => {}, warn: (m) => void warnings.push(m) };
  return { logger, warnings };
}

describe('runPatch() failures', () => {
  let work: string;
  let image: string;
  let deps: (family: OsFamily) => PatchDeps;
  let options: PatchImageOptions;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'copa-patch-failures-'));
    await writeSourceLayout(join(work, 'source'));
    await writeFile(join(work, 'report.json'), '{}');
    image = `oci:${join(work, 'source')}:v1`;
    const client = new RegistryClient({});
    deps = (family) => ({
      openSource: (ref, run) =>
        openSource(ref, { client, workDir: run.workDir, logger: run.logger }),
      readReports: async () => [report(family)],
      patchers: new Map([['debian', unfixable]]),
      publish: () => Promise.reject(new Error('nothing must be published')),
    });
    options = {
      image,
      report: join(work, 'report.json'),
      push: false,
      ignoreErrors: false,
      scanner: 'trivy',
      compression: 'gzip',
      cacheDir: join(work, 'cache'),
      workingFolder: work,
    };
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('reports a package without a fixed version once, with the version asked', async () => {
    const { logger, warnings } = recorder();
    const err = await runPatch(options, { logger }, deps('debian')).catch((e: unknown) => e);
    assert.ok(err instanceof PatchFailedError);
    assert.equal(err.message, `patching "${image}": linux/amd64 failed`);
    // Said once, in the summary the caller prints as "linux/amd64: <message>".
    assert.deepEqual(warnings, []);
    const [platform] = err.summary.platforms;
    assert.equal(platform?.status, 'failed');
    assert.equal(platform?.message, `"openssl" needs >= 9.9.9-1: ${newest}`);
  });

  it('with ignoreErrors, does not call a platform whose packages all failed up to date', async () => {
    const { logger, warnings } = recorder();
    const run = runPatch({ ...options, ignoreErrors: true }, { logger }, deps('debian'));
    const err = await run.catch((e: unknown) => e);
    assert.ok(err instanceof PatchFailedError, String(err));
    const [platform] = err.summary.platforms;
    assert.equal(platform?.status, 'ignored');
    assert.match(platform?.message ?? '', /"openssl"/);
    assert.equal(warnings.filter((w) => w.includes(newest)).length, 1, String(warnings));
  });

  it('hints that only Debian and Ubuntu images are patched for another OS', async () => {
    const err = await runPatch(options, {}, deps('alpine')).catch((e: unknown) => e);
    assert.ok(err instanceof PatchFailedError);
    assert.match(err.hint ?? '', /only Debian and Ubuntu images/);
    assert.doesNotMatch(err.hint ?? '', /--ignore-errors/);
    const ignored = await runPatch({ ...options, ignoreErrors: true }, {}, deps('alpine')).catch(
      (e: unknown) => e,
    );
    assert.ok(ignored instanceof PatchFailedError);
    assert.match(ignored.hint ?? '', /only Debian and Ubuntu images/);
  });
});
