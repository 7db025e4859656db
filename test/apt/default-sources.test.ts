import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

import { isCopaError } from '../../src/errors.js';
import { openRepositories, type AptConfig } from '../../src/pkgmgr/dpkg/apt/index.js';
import { startAptRepository, type AptRepository } from '../support/apt-repo.js';
import { scratch } from './image-config.js';

const distroless: AptConfig = {
  osRelease: { id: 'debian', versionId: '12' },
  sources: [],
  trustedKeys: [],
};

describe('default sources of images without apt sources', () => {
  let archive: AptRepository;
  let security: AptRepository;

  before(async () => {
    [archive, security] = await Promise.all([
      startAptRepository({
        suites: ['bookworm', 'bookworm-updates', 'bookworm-backports'],
        packages: [
          { name: 'openssl', version: '3.0.11-1~deb12u2' },
          { name: 'tzdata', version: '2024a-0+deb12u1', arch: 'all', suite: 'bookworm-updates' },
          { name: 'newtool', version: '1.0-1~bpo12+1', suite: 'bookworm-backports' },
        ],
      }),
      startAptRepository({
        pathPrefix: '/debian-security',
        suites: ['bookworm-security'],
        packages: [{ name: 'openssl', version: '3.0.15-1~deb12u1' }],
      }),
    ]);
  });
  after(() => Promise.all([archive.stop(), security.stop()]));

  /** A host root whose apt sources name the two loopback archives and their keyrings. */
  async function hostWithSources(hostRoot: string): Promise<void> {
    const keyrings = path.join(hostRoot, 'usr/share/keyrings');
    await fs.mkdir(keyrings, { recursive: true });
    await fs.copyFile(archive.keyringPath, path.join(keyrings, 'archive.gpg'));
    await fs.copyFile(security.keyringPath, path.join(keyrings, 'security.gpg'));
    const dir = path.join(hostRoot, 'etc/apt/sources.list.d');
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(
      path.join(dir, 'debian.sources'),
      `Types: deb\nURIs: ${archive.url}\nSuites: bookworm bookworm-updates\nComponents: main\n` +
        'Signed-By: /usr/share/keyrings/archive.gpg\n\n' +
        `Types: deb\nURIs: ${security.url}\nSuites: bookworm-security\nComponents: main\n` +
        'Signed-By: /usr/share/keyrings/security.gpg\n',
    );
  }

  test('host mirrors serve codename, -updates and -security with host keyrings', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    await hostWithSources(dirs.hostRoot);
    const repos = await openRepositories(distroless, { arch: 'amd64', env: {}, ...dirs });
    t.after(() => repos.close());
    assert.deepEqual(
      repos.origins.map((o) => `${o.uri} ${o.suite}`),
      [
        `${archive.url} bookworm`,
        `${archive.url} bookworm-updates`,
        `${security.url} bookworm-security`,
      ],
    );
    assert.equal(repos.candidate('openssl')?.version, '3.0.15-1~deb12u1');
    assert.equal(repos.candidate('tzdata')?.version, '2024a-0+deb12u1');
  });

  test('environment mirrors and user keyrings replace the host settings', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const env = {
      COPA_DEBIAN_MIRROR: `${archive.url}/`,
      COPA_DEBIAN_SECURITY_MIRROR: security.url,
    };
    const keyrings = [archive.keyringPath, security.armoredKeyPath];
    const repos = await openRepositories(distroless, {
      arch: 'amd64',
      env,
      overrides: { keyrings },
      ...dirs,
    });
    t.after(() => repos.close());
    assert.equal(repos.candidate('openssl')?.version, '3.0.15-1~deb12u1');
  });

  test('the config file names mirrors when the environment does not', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const configFile = path.join(dirs.hostRoot, 'config.json');
    await fs.writeFile(
      configFile,
      JSON.stringify({ debianMirror: archive.url, debianSecurityMirror: security.url }),
    );
    const repos = await openRepositories(distroless, {
      arch: 'amd64',
      env: {},
      configFile,
      overrides: { keyrings: [archive.keyringPath, security.keyringPath] },
      ...dirs,
    });
    t.after(() => repos.close());
    assert.equal(repos.origins.length, 3);
  });

  test('extra suites join the main archive, or come as whole lines', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    await hostWithSources(dirs.hostRoot);
    const line = `deb [signed-by=${archive.keyringPath}] ${archive.url} bookworm-backports main`;
    for (const extra of ['bookworm-backports', line]) {
      const repos = await openRepositories(distroless, {
        arch: 'amd64',
        env: {},
        overrides: { extraSuites: [extra] },
        ...dirs,
      });
      t.after(() => repos.close());
      assert.equal(repos.candidate('newtool')?.version, '1.0-1~bpo12+1', extra);
    }
  });

  test('user mirrors replace the archive URIs of images with sources', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const keys = [
      { kind: 'file' as const, path: '/k1.gpg', data: await fs.readFile(archive.keyringPath) },
      { kind: 'file' as const, path: '/k2.gpg', data: await fs.readFile(security.keyringPath) },
    ];
    const unreachable = 'http://127.0.0.1:9';
    const config: AptConfig = {
      osRelease: { id: 'debian', versionCodename: 'bookworm' },
      sources: [
        { uri: `${unreachable}/debian`, suite: 'bookworm', components: ['main'], from: 'a' },
        {
          uri: `${unreachable}/debian-security`,
          suite: 'bookworm-security',
          components: ['main'],
          from: 'b',
        },
      ],
      trustedKeys: keys,
    };
    const repos = await openRepositories(config, {
      arch: 'amd64',
      env: {},
      overrides: { mirror: archive.url, securityMirror: security.url },
      ...dirs,
    });
    t.after(() => repos.close());
    assert.deepEqual(
      repos.origins.map((o) => o.uri),
      [archive.url, security.url],
    );
    assert.equal(repos.candidate('openssl')?.version, '3.0.15-1~deb12u1');
  });
});

describe('default sources without a mirror', () => {
  test('no mirror anywhere gives MIRROR_UNCONFIGURED naming the setting', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    await assert.rejects(
      openRepositories(distroless, { arch: 'amd64', env: {}, ...dirs }),
      (e) => isCopaError(e, 'MIRROR_UNCONFIGURED') && /COPA_DEBIAN_MIRROR/.test(e.hint ?? ''),
    );
    await assert.rejects(
      openRepositories(distroless, {
        arch: 'amd64',
        env: { COPA_DEBIAN_MIRROR: 'http://127.0.0.1:9/debian' },
        ...dirs,
      }),
      (e) =>
        isCopaError(e, 'MIRROR_UNCONFIGURED') && /COPA_DEBIAN_SECURITY_MIRROR/.test(e.hint ?? ''),
    );
  });

  test('an Ubuntu arm64 image needs the ports mirror', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const ubuntu: AptConfig = {
      ...distroless,
      osRelease: { id: 'ubuntu', versionCodename: 'noble' },
    };
    await assert.rejects(
      openRepositories(ubuntu, {
        arch: 'arm64',
        env: { COPA_UBUNTU_MIRROR: 'http://127.0.0.1:9/ubuntu' },
        ...dirs,
      }),
      (e) => isCopaError(e, 'MIRROR_UNCONFIGURED') && /COPA_UBUNTU_PORTS_MIRROR/.test(e.hint ?? ''),
    );
  });

  test('a mirror that is not an http URL gives REPOSITORY_CONFIG_INVALID', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    await assert.rejects(
      openRepositories(distroless, {
        arch: 'amd64',
        env: { COPA_DEBIAN_MIRROR: 'ftp://x' },
        ...dirs,
      }),
      (e) => isCopaError(e, 'REPOSITORY_CONFIG_INVALID') && /COPA_DEBIAN_MIRROR/.test(e.message),
    );
  });

  test('an unknown distribution without sources gives OS_UNSUPPORTED', async (t) => {
    const dirs = await scratch();
    t.after(() => dirs.cleanup());
    const other: AptConfig = { ...distroless, osRelease: { id: 'pureos', versionId: '10' } };
    await assert.rejects(openRepositories(other, { arch: 'amd64', env: {}, ...dirs }), (e) =>
      isCopaError(e, 'OS_UNSUPPORTED'),
    );
  });
});
