import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { isCopaError } from '../errors.js';
import { resolvePatchOptions, type PatchFlags } from './resolve-patch-options.js';

function resolve(flags: PatchFlags) {
  const warnings: string[] = [];
  const resolved = resolvePatchOptions(flags, { warn: (m) => warnings.push(m) });
  return { ...resolved, warnings };
}

function assertUsageError(flags: PatchFlags, flag: string) {
  assert.throws(
    () => resolve(flags),
    (err) => isCopaError(err, 'USAGE') && err.message.includes(flag) && err.hint !== undefined,
  );
}

describe('resolvePatchOptions()', () => {
  it('fills in Copa defaults when only --image is given', () => {
    const { options, progress, warnings } = resolve({ image: 'nginx:1.25' });
    assert.deepEqual(options, {
      image: 'nginx:1.25',
      report: undefined,
      tag: undefined,
      tagSuffix: 'patched',
      push: false,
      ignoreErrors: false,
      platforms: [],
      scanner: 'trivy',
      format: 'openvex',
      output: undefined,
      timeoutMs: 300_000,
      workingFolder: undefined,
      loader: undefined,
      ociDir: undefined,
      compression: 'gzip',
      forceCompression: false,
      repositories: {},
      debug: false,
    });
    assert.equal(progress, 'auto');
    assert.deepEqual(warnings, []);
  });

  it('keeps every given value', () => {
    const { options, progress } = resolve({
      image: 'localhost:5000/app@sha256:' + 'a'.repeat(64),
      report: 'reports/',
      tag: 'localhost:5000/other:1-fixed',
      tagSuffix: 'fixed',
      push: true,
      ignoreErrors: true,
      platform: ['linux/amd64,linux/arm/v7', 'linux/arm64'],
      scanner: 'grype',
      output: 'vex.json',
      timeout: '1h30m',
      workingFolder: tmpdir(),
      loader: 'podman',
      ociDir: 'out',
      progress: 'plain',
      compression: 'zstd',
      forceCompression: true,
      debug: true,
    });
    assert.equal(options.tag, 'localhost:5000/other:1-fixed');
    assert.deepEqual(options.platforms, [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
      { os: 'linux', architecture: 'arm64' },
    ]);
    assert.equal(options.timeoutMs, 5_400_000);
    assert.equal(options.loader, 'podman');
    assert.equal(options.compression, 'zstd');
    assert.equal(options.output, 'vex.json');
    assert.equal(options.debug, true);
    assert.equal(progress, 'plain');
  });

  it('compresses new layers with gzip when no --compression is given, pushing or not', () => {
    assert.equal(resolve({ image: 'a:1', push: true }).options.compression, 'gzip');
    assert.equal(resolve({ image: 'a:1' }).options.compression, 'gzip');
    assert.equal(
      resolve({ image: 'a:1', push: true, compression: 'uncompressed' }).options.compression,
      'uncompressed',
    );
  });

  it('refuses an --output or --working-folder that cannot be written, before any work', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'copa-flags-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const image = 'localhost:5000/app:1';
    assertUsageError({ image, output: join(dir, 'missing', 'vex.json') }, '--output');
    assertUsageError({ image, output: dir }, '--output');
    assertUsageError({ image, workingFolder: join(dir, 'missing') }, '--working-folder');
    const { options } = resolve({ image, output: join(dir, 'vex.json'), workingFolder: dir });
    assert.equal(options.output, join(dir, 'vex.json'));
    assert.equal(options.workingFolder, dir);
  });

  it('falls back to "patched" for an empty --tag-suffix, as Copa does', () => {
    assert.equal(resolve({ image: 'a:1', tagSuffix: '' }).options.tagSuffix, 'patched');
  });

  it('drops duplicate platforms', () => {
    const { options } = resolve({
      image: 'a:1',
      platform: ['linux/amd64', 'linux/amd64', ' linux/s390x '],
    });
    assert.deepEqual(options.platforms, [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 's390x' },
    ]);
  });

  it('rejects an empty platform list item', () => {
    for (const platform of [',', ' ', 'linux/amd64,']) {
      assert.throws(
        () => resolve({ image: 'a:1', platform: [platform] }),
        (err: unknown) =>
          isCopaError(err) && err.code === 'USAGE' && err.message.includes('--platform'),
      );
    }
  });

  it('accepts a digest reference when --tag is given', () => {
    const image = 'nginx@sha256:' + 'b'.repeat(64);
    assert.equal(resolve({ image, tag: '1.25-patched' }).options.tag, '1.25-patched');
  });

  it('accepts a tag with a digest', () => {
    assert.equal(resolve({ image: 'nginx:1.25@sha256:' + 'c'.repeat(64) }).options.tag, undefined);
  });

  it('warns that the BuildKit flags are ignored', () => {
    const { warnings } = resolve({ image: 'a:1', addr: 'docker://', cacert: 'ca.pem' });
    assert.equal(warnings.length, 2);
    assert.match(warnings[0] as string, /--addr/);
    assert.match(warnings[1] as string, /--cacert/);
  });

  it('warns that --eol-api-url is ignored', () => {
    const { warnings } = resolve({ image: 'a:1', eolApiUrl: 'http://127.0.0.1:9/api' });
    assert.match(warnings.join('\n'), /--eol-api-url/);
  });

  it('accepts an OCI layout without a tag', () => {
    assert.equal(resolve({ image: 'oci:/tmp/layout' }).options.image, 'oci:/tmp/layout');
  });

  it('reads --progress rawjson as plain with a warning', () => {
    const { progress, warnings } = resolve({ image: 'a:1', progress: 'rawjson' });
    assert.equal(progress, 'plain');
    assert.equal(warnings.length, 1);
  });

  it('accepts --pkg-types os and --library-patch-level patch', () => {
    assert.doesNotThrow(() =>
      resolve({ image: 'a:1', pkgTypes: 'os', libraryPatchLevel: 'patch' }),
    );
  });

  const usageErrors: [string, PatchFlags, string][] = [
    ['no image', {}, '--image'],
    ['an empty image', { image: '' }, '--image'],
    ['an image without a tag', { image: 'nginx' }, '--image'],
    ['a digest-only image without --tag', { image: 'nginx@sha256:' + 'd'.repeat(64) }, '--image'],
    ['a registry port mistaken for a tag', { image: 'localhost:5000/app' }, '--image'],
    ['a full --tag reference without a tag', { image: 'a:1', tag: 'localhost:5000/app' }, '--tag'],
    ['an invalid bare --tag', { image: 'a:1', tag: 'bad/tag' }, '--tag'],
    ['an invalid --tag-suffix', { image: 'a:1', tagSuffix: 'a b' }, '--tag-suffix'],
    ['a bad platform', { image: 'a:1', platform: ['linux/amd64,linux'] }, '--platform'],
    ['an unknown architecture', { image: 'a:1', platform: ['linux/x86_64'] }, '--platform'],
    ['a bad scanner name', { image: 'a:1', scanner: '../x' }, '--scanner'],
    ['a VEX format other than openvex', { image: 'a:1', format: 'csaf' }, '--format'],
    ['a timeout without unit', { image: 'a:1', timeout: '300' }, '--timeout'],
    ['a zero timeout', { image: 'a:1', timeout: '0s' }, '--timeout'],
    ['a negative timeout', { image: 'a:1', timeout: '-5m' }, '--timeout'],
    ['an unknown loader', { image: 'a:1', loader: 'nerdctl' }, '--loader'],
    ['an unknown progress mode', { image: 'a:1', progress: 'fancy' }, '--progress'],
    ['an unknown compression', { image: 'a:1', compression: 'lz4' }, '--compression'],
    ['estargz compression', { image: 'a:1', compression: 'estargz' }, '--compression'],
    ['a non-http EOL URL', { image: 'a:1', eolApiUrl: 'ftp://x' }, '--eol-api-url'],
    ['bulk mode', { config: 'bulk.yaml' }, '--config'],
    ['library patching', { image: 'a:1', pkgTypes: 'os,library' }, '--pkg-types'],
    ['an unknown package type', { image: 'a:1', pkgTypes: 'python' }, '--pkg-types'],
    [
      'a library patch level',
      { image: 'a:1', libraryPatchLevel: 'minor' },
      '--library-patch-level',
    ],
    [
      'a bad library patch level',
      { image: 'a:1', libraryPatchLevel: 'huge' },
      '--library-patch-level',
    ],
    [
      'Go toolchain patching',
      { image: 'a:1', toolchainPatchLevel: true },
      '--toolchain-patch-level',
    ],
    ['a Go VCS URL', { image: 'a:1', goVcsUrl: 'https://x/y@z' }, '--go-vcs-url'],
  ];
  for (const [name, flags, flag] of usageErrors) {
    it(`throws a USAGE error naming ${flag} for ${name}`, () => assertUsageError(flags, flag));
  }
});
