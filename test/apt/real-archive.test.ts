/**
 * Opens the real Debian archive through the mirror this host's apt sources use, with the
 * host's Debian keyring, as an image without sources would be. Skipped when the host names no
 * Debian mirror or the archive is unreachable. Indexes and packages are cached under
 * `${COPA_TEST_CACHE:-/var/cache/copa-test}`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';

import { isCopaError } from '../../src/errors.js';
import { openRepositories, type AptRepositories } from '../../src/pkgmgr/dpkg/apt/index.js';
import { compareDebianVersions } from '../../src/pkgmgr/dpkg/version.js';

const cacheDir = process.env.COPA_TEST_CACHE || '/var/cache/copa-test';

test('bookworm-security has a newer openssl than bookworm for arm64', async (t) => {
  let repos: AptRepositories;
  try {
    repos = await openRepositories(
      { osRelease: { id: 'debian', versionId: '12' }, sources: [], trustedKeys: [] },
      { arch: 'arm64', cacheDir, env: {}, signal: AbortSignal.timeout(300_000) },
    );
  } catch (err) {
    if (isCopaError(err, 'REPOSITORY_UNAVAILABLE', 'MIRROR_UNCONFIGURED')) {
      t.skip(`the Debian archive is not usable from this host: ${err.message}`);
      return;
    }
    throw err;
  }
  t.after(() => repos.close());
  assert.deepEqual(
    repos.origins.map((o) => `${o.suite} ${o.origin}`),
    ['bookworm Debian', 'bookworm-updates Debian', 'bookworm-security Debian'],
  );
  const versions = repos.packages('openssl');
  const release = versions.find((r) => r.origin.suite === 'bookworm');
  const candidate = repos.candidate('openssl');
  assert.ok(release !== undefined && candidate !== undefined);
  assert.equal(candidate.origin.suite, 'bookworm-security');
  assert.ok(compareDebianVersions(candidate.version, release.version) > 0);
  assert.equal(candidate.architecture, 'arm64');
  assert.ok(repos.packages('libc6').length > 0);
  assert.ok(repos.providers('mail-transport-agent').length > 0);

  const zlib = repos.candidate('zlib1g')!;
  const deb = await repos.download(zlib);
  const digest = createHash('sha256')
    .update(await fs.readFile(deb))
    .digest('hex');
  assert.equal(digest, zlib.sha256);
});
