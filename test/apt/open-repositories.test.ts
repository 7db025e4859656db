import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';

import { Agent } from 'undici';

import { isCopaError } from '../../src/errors.js';
import {
  createIndexCache,
  openRepositories,
  type AptConfig,
} from '../../src/pkgmgr/dpkg/apt/index.js';
import { startAptRepository, type AptRepository } from '../support/apt-repo.js';
import { imageConfig, recordingLogger, scratch } from './image-config.js';

describe('openRepositories on a signed loopback repository', () => {
  let repo: AptRepository;
  let config: AptConfig;

  before(async () => {
    repo = await startAptRepository({
      suites: ['stable', 'stable-security', 'stable-backports'],
      releaseFields: { 'stable-backports': { NotAutomatic: 'yes', ButAutomaticUpgrades: 'yes' } },
      packages: [
        {
          name: 'hello',
          version: '1.0-1',
          depends: 'libc6 (>= 2.34) | libc6.1',
          files: { 'usr/bin/hello': 'v1' },
        },
        { name: 'hello', version: '1.0-1', arch: 'arm64' },
        {
          name: 'hello',
          version: '1.1-1',
          suite: 'stable-security',
          source: 'hello-src (1.1)',
          files: { 'usr/bin/hello': 'v1.1' },
        },
        { name: 'hello', version: '3.0-1~bpo12+1', suite: 'stable-backports' },
        {
          name: 'hello-doc',
          version: '1:0.5',
          arch: 'all',
          provides: 'hello-manual (= 0.5), docs',
          multiArch: 'foreign',
        },
        { name: 'mta', version: '2', provides: 'mail-transport-agent', essential: true },
      ],
    });
    config = await imageConfig(repo, { suites: ['stable', 'stable-security', 'stable-backports'] });
  });
  after(() => repo.stop());

  test('candidate picks the highest version of the highest priority suite', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const repos = await openRepositories(config, { arch: 'amd64', env: {}, ...dirs });
    t.after(() => repos.close());
    const hello = repos.candidate('hello');
    assert.equal(hello?.version, '1.1-1');
    assert.equal(hello?.origin.suite, 'stable-security');
    assert.equal(hello?.source, 'hello-src');
    assert.equal(hello?.sourceVersion, '1.1');
    assert.deepEqual(
      repos
        .packages('hello')
        .map((r) => `${r.version} ${r.architecture} ${r.origin.priority}`)
        .sort(),
      ['1.0-1 amd64 500', '1.1-1 amd64 500', '3.0-1~bpo12+1 amd64 100'],
    );
    assert.equal(repos.candidate('hello', 'arm64'), undefined, 'arm64 indexes were not read');
    assert.equal(repos.candidate('hello-doc')?.version, '1:0.5');
    assert.equal(repos.candidate('hello-doc')?.multiArch, 'foreign');
    assert.equal(repos.candidate('missing'), undefined);
    assert.equal(repos.packages('hello-doc').length, 1);
  });

  test('records expose relations, flags and origins parsed from the index', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const repos = await openRepositories(config, { arch: 'amd64', env: {}, ...dirs });
    t.after(() => repos.close());
    const old = repos.packages('hello').find((r) => r.version === '1.0-1');
    assert.deepEqual(old?.depends, [
      [{ name: 'libc6', version: { operator: '>=', version: '2.34' } }, { name: 'libc6.1' }],
    ]);
    assert.equal(old?.source, 'hello');
    assert.equal(old?.field('Section'), 'misc');
    assert.match(old?.filename ?? '', /^pool\/stable\/main\/h\/hello\/hello_1\.0-1_amd64\.deb$/);
    assert.deepEqual(
      repos.providers('hello-manual').map((r) => r.name),
      ['hello-doc'],
    );
    assert.deepEqual(
      repos.providers('mail-transport-agent').map((r) => r.name),
      ['mta'],
    );
    assert.equal(repos.candidate('mta')?.essential, true);
    assert.deepEqual(
      repos.origins.map((o) => `${o.suite} ${o.component} ${o.priority} ${o.origin}`),
      [
        'stable main 500 copa-test',
        'stable-security main 500 copa-test',
        'stable-backports main 100 copa-test',
      ],
    );
  });

  test('download returns a verified cached .deb and shares concurrent downloads', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const repos = await openRepositories(config, { arch: 'amd64', env: {}, ...dirs });
    t.after(() => repos.close());
    const hello = repos.candidate('hello')!;
    const before = repo.requests.length;
    const [a, b] = await Promise.all([repos.download(hello), repos.download(hello)]);
    assert.equal(a, b);
    assert.equal(a, `${dirs.cacheDir}/debs/sha256/${hello.sha256}.deb`);
    const bytes = await fs.readFile(a);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), hello.sha256);
    assert.equal(execFileSync('dpkg-deb', ['--field', a, 'Version']).toString().trim(), '1.1-1');
    assert.equal(repo.requests.slice(before).filter((r) => r.path.endsWith('.deb')).length, 1);
  });

  test('a second open with the same cache downloads no index and no package', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const first = await openRepositories(config, { arch: 'amd64', env: {}, ...dirs });
    await first.download(first.candidate('hello')!);
    await first.close();
    const mark = repo.requests.length;
    const second = await openRepositories(config, { arch: 'amd64', env: {}, ...dirs });
    t.after(() => second.close());
    await second.download(second.candidate('hello')!);
    assert.deepEqual(repo.requests.slice(mark), [], 'no request within the Release cache age');
    const third = await openRepositories(config, {
      arch: 'amd64',
      env: {},
      ...dirs,
      releaseMaxAgeMs: 0,
    });
    t.after(() => third.close());
    const revalidated = repo.requests.slice(mark);
    assert.deepEqual(revalidated.map((r) => `${r.path} ${r.status}`).sort(), [
      'dists/stable-backports/InRelease 304',
      'dists/stable-security/InRelease 304',
      'dists/stable/InRelease 304',
    ]);
    assert.equal(third.candidate('hello')?.version, '1.1-1');
  });

  test('an index cache shares parsed records between opens', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const indexCache = createIndexCache();
    const a = await openRepositories(config, { arch: 'amd64', env: {}, indexCache, ...dirs });
    const b = await openRepositories(config, { arch: 'amd64', env: {}, indexCache, ...dirs });
    t.after(() => Promise.all([a.close(), b.close()]));
    assert.equal(a.candidate('hello'), b.candidate('hello'));
  });

  test('foreign architectures add their indexes, arch:all once', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const repos = await openRepositories(config, {
      arch: 'amd64',
      foreignArchitectures: ['arm64'],
      env: {},
      ...dirs,
    });
    t.after(() => repos.close());
    assert.equal(repos.candidate('hello', 'arm64')?.version, '1.0-1');
    assert.equal(repos.packages('hello-doc').length, 1);
  });

  test('sources limited to other architectures are not read', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const limited: AptConfig = {
      ...config,
      sources: config.sources.map((s) => ({ ...s, architectures: ['arm64'] })),
    };
    const repos = await openRepositories(limited, { arch: 'amd64', env: {}, ...dirs });
    t.after(() => repos.close());
    assert.equal(repos.candidate('hello'), undefined);
  });

  for (const key of ['trusted', 'inline', 'fingerprint'] as const) {
    test(`the repository key is found when the image gives it as "${key}"`, async (t) => {
      const dirs = await scratch();
      t.after(() => dirs.cleanup());
      const keyed = await imageConfig(repo, { key });
      const repos = await openRepositories(keyed, { arch: 'amd64', env: {}, ...dirs });
      t.after(() => repos.close());
      assert.equal(repos.candidate('hello')?.version, '1.0-1');
    });
  }

  test('a missing Signed-By keyring gives REPOSITORY_UNVERIFIED unless one is given', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const base = await imageConfig(repo);
    const missing: AptConfig = {
      ...base,
      sources: base.sources.map((s) => ({
        ...s,
        signedBy: [{ kind: 'missing', path: '/usr/share/keyrings/gone.gpg' }],
      })),
    };
    await assert.rejects(
      openRepositories(missing, { arch: 'amd64', env: {}, ...dirs }),
      (e) => isCopaError(e, 'REPOSITORY_UNVERIFIED') && /gone\.gpg/.test(e.message) && !!e.hint,
    );
    const repos = await openRepositories(missing, {
      arch: 'amd64',
      env: {},
      ...dirs,
      overrides: { keyrings: [repo.armoredKeyPath] },
    });
    t.after(() => repos.close());
    assert.equal(repos.candidate('hello')?.version, '1.0-1');
  });
});

describe('openRepositories fetching', () => {
  test('falls back to Release and Release.gpg and uses by-hash paths', async (t) => {
    const repo = await startAptRepository({
      inRelease: false,
      byHash: true,
      indexCompression: ['gz'],
      packages: [{ name: 'hello', version: '1.0-1' }],
    });
    t.after(() => repo.stop());
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const repos = await openRepositories(await imageConfig(repo), {
      arch: 'amd64',
      env: {},
      ...dirs,
    });
    t.after(() => repos.close());
    assert.equal(repos.candidate('hello')?.version, '1.0-1');
    const paths = repo.requests.map((r) => `${r.path} ${r.status}`);
    assert.deepEqual(paths.slice(0, 3), [
      'dists/stable/InRelease 404',
      'dists/stable/Release 200',
      'dists/stable/Release.gpg 200',
    ]);
    assert.match(
      paths[3] ?? '',
      /^dists\/stable\/main\/binary-amd64\/by-hash\/SHA256\/[0-9a-f]{64} 200$/,
    );
  });

  test('a changed Release is fetched again once the cached copy is too old', async (t) => {
    const repo = await startAptRepository({ packages: [{ name: 'hello', version: '1.0-1' }] });
    t.after(() => repo.stop());
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const config = await imageConfig(repo);
    const first = await openRepositories(config, { arch: 'amd64', env: {}, ...dirs });
    await first.close();
    await repo.publish([{ name: 'hello', version: '1.0-2' }], []);
    const options = { arch: 'amd64', env: {}, ...dirs };
    const cached = await openRepositories(config, options);
    t.after(() => cached.close());
    assert.equal(cached.candidate('hello')?.version, '1.0-1', 'the cached Release is still fresh');
    const fresh = await openRepositories(config, { ...options, releaseMaxAgeMs: 0 });
    t.after(() => fresh.close());
    assert.equal(fresh.candidate('hello')?.version, '1.0-2');
    assert.equal(fresh.packages('hello').length, 2);
  });

  test('retries transient server errors', async (t) => {
    let failures = 2;
    const repo = await startAptRepository({
      packages: [{ name: 'hello', version: '1.0-1' }],
      intercept: (req, res) => {
        if (!req.url?.endsWith('Packages.xz') || failures === 0) return false;
        failures--;
        res.writeHead(503).end();
        return true;
      },
    });
    t.after(() => repo.stop());
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const repos = await openRepositories(await imageConfig(repo), {
      arch: 'amd64',
      env: {},
      ...dirs,
    });
    t.after(() => repos.close());
    assert.equal(repos.candidate('hello')?.version, '1.0-1');
    assert.equal(failures, 0);
  });

  test('skips an unreachable third-party source with a warning', async (t) => {
    const repo = await startAptRepository({ packages: [{ name: 'hello', version: '1.0-1' }] });
    t.after(() => repo.stop());
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const base = await imageConfig(repo);
    const first = base.sources[0]!;
    const config: AptConfig = {
      ...base,
      sources: [...base.sources, { ...first, uri: `${repo.url.replace('/debian', '/vendor')}` }],
    };
    const logger = recordingLogger();
    const repos = await openRepositories(config, { arch: 'amd64', env: {}, logger, ...dirs });
    t.after(() => repos.close());
    assert.equal(repos.candidate('hello')?.version, '1.0-1');
    assert.ok(
      logger.lines.some((l) => /^warn: skipping source .*\/vendor\/dists\/stable\//.test(l)),
    );
  });

  test('an archive source that cannot be fetched gives REPOSITORY_UNAVAILABLE', async (t) => {
    const repo = await startAptRepository({ packages: [{ name: 'hello', version: '1.0-1' }] });
    t.after(() => repo.stop());
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const config = await imageConfig(repo, { suites: ['no-such-suite'] });
    await assert.rejects(openRepositories(config, { arch: 'amd64', env: {}, ...dirs }), (e) =>
      isCopaError(e, 'REPOSITORY_UNAVAILABLE'),
    );
  });
});

test('openRepositories reads https repositories with the CA of the given dispatcher', async (t) => {
  const repo = await startAptRepository({
    tls: true,
    packages: [{ name: 'hello', version: '1.0-1' }],
  });
  t.after(() => repo.stop());
  const config = await imageConfig(repo);
  const untrusted = await scratch();
  t.after(() => untrusted.cleanup());
  await assert.rejects(openRepositories(config, { arch: 'amd64', env: {}, ...untrusted }), (e) =>
    isCopaError(e, 'REPOSITORY_UNAVAILABLE'),
  );
  const dirs = await scratch();
  t.after(() => dirs.cleanup());
  const dispatcher = new Agent({ connect: { ca: await fs.readFile(repo.caFile!) } });
  t.after(() => dispatcher.close());
  const repos = await openRepositories(config, { arch: 'amd64', env: {}, dispatcher, ...dirs });
  t.after(() => repos.close());
  const deb = await repos.download(repos.candidate('hello')!);
  assert.ok((await fs.stat(deb)).size > 0);
});
