import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

import { isCopaError } from '../../src/errors.js';
import { openRepositories } from '../../src/pkgmgr/dpkg/apt/index.js';
import { startAptRepository, type AptRepositoryOptions } from '../support/apt-repo.js';
import { imageConfig, scratch } from './image-config.js';

const packages = [{ name: 'hello', version: '1.0-1', files: { 'usr/bin/hello': 'v1' } }];

/** Starts a repository, lets `tamper` change it, then opens it with a fresh cache. */
async function open(
  t: { after(fn: () => Promise<unknown>): void },
  options: AptRepositoryOptions,
  tamper?: (root: string) => Promise<void>,
) {
  const repo = await startAptRepository({ packages, ...options });
  t.after(() => repo.stop());
  await tamper?.(repo.root);
  const dirs = await scratch();
  t.after(() => dirs.cleanup());
  return openRepositories(await imageConfig(repo), { arch: 'amd64', env: {}, ...dirs });
}

function rejectsWith(code: 'REPOSITORY_UNVERIFIED' | 'REPOSITORY_HASH_MISMATCH') {
  return (e: unknown) => {
    assert.ok(isCopaError(e, code), `want ${code}, got ${String(e)}`);
    assert.ok(e.hint, 'the error has a hint');
    return true;
  };
}

test('an unsigned repository gives REPOSITORY_UNVERIFIED', async (t) => {
  await assert.rejects(open(t, { sign: 'none' }), rejectsWith('REPOSITORY_UNVERIFIED'));
});

test('a repository signed by another key gives REPOSITORY_UNVERIFIED', async (t) => {
  await assert.rejects(open(t, { sign: 'wrong-key' }), rejectsWith('REPOSITORY_UNVERIFIED'));
});

test('a detached signature by another key gives REPOSITORY_UNVERIFIED', async (t) => {
  await assert.rejects(
    open(t, { sign: 'wrong-key', inRelease: false }),
    rejectsWith('REPOSITORY_UNVERIFIED'),
  );
});

test('a Release changed after signing gives REPOSITORY_UNVERIFIED', async (t) => {
  const tamper = async (root: string) => {
    const file = path.join(root, 'dists/stable/InRelease');
    const text = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, text.replace('Origin: copa-test', 'Origin: copa-evil'));
  };
  await assert.rejects(open(t, {}, tamper), rejectsWith('REPOSITORY_UNVERIFIED'));
});

test('a Release changed after its detached signature gives REPOSITORY_UNVERIFIED', async (t) => {
  const tamper = async (root: string) => {
    await fs.appendFile(path.join(root, 'dists/stable/Release'), 'Label: more\n');
  };
  await assert.rejects(open(t, { inRelease: false }, tamper), rejectsWith('REPOSITORY_UNVERIFIED'));
});

test('unsigned text around the signed part of InRelease is not read', async (t) => {
  const tamper = async (root: string) => {
    const file = path.join(root, 'dists/stable/InRelease');
    const text = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, `Acquire-By-Hash: yes\n${text}\nSHA256:\n ${'0'.repeat(64)} 1 x\n`);
  };
  const repos = await open(t, {}, tamper);
  t.after(() => repos.close());
  assert.equal(repos.candidate('hello')?.version, '1.0-1');
});

test('an index that does not match the Release gives REPOSITORY_HASH_MISMATCH', async (t) => {
  const tamper = async (root: string) => {
    const dir = path.join(root, 'dists/stable/main/binary-amd64');
    const text = execFileSync('xz', ['-dc', path.join(dir, 'Packages.xz')]).toString();
    const evil = text.replace('Version: 1.0-1', 'Version: 9.9-9');
    await fs.writeFile(path.join(dir, 'Packages.xz'), execFileSync('xz', ['-c'], { input: evil }));
  };
  await assert.rejects(open(t, {}, tamper), rejectsWith('REPOSITORY_HASH_MISMATCH'));
});

test('a .deb that does not match the index gives REPOSITORY_HASH_MISMATCH', async (t) => {
  let debPath = '';
  const repos = await open(t, {}, async (root) => {
    const [deb] = await fs.readdir(path.join(root, 'pool/stable/main/h/hello'));
    debPath = path.join(root, 'pool/stable/main/h/hello', deb!);
  });
  t.after(() => repos.close());
  const stat = await fs.stat(debPath);
  await fs.writeFile(debPath, Buffer.alloc(stat.size, 0x41));
  await assert.rejects(
    repos.download(repos.candidate('hello')!),
    rejectsWith('REPOSITORY_HASH_MISMATCH'),
  );
});

test('an expired Release gives REPOSITORY_UNVERIFIED unless the check is off', async (t) => {
  const past = new Date(Date.now() - 86_400_000).toUTCString();
  const options = { releaseFields: { stable: { 'Valid-Until': past } } };
  await assert.rejects(open(t, options), rejectsWith('REPOSITORY_UNVERIFIED'));
  const repo = await startAptRepository({ packages, ...options });
  t.after(() => repo.stop());
  const dirs = await scratch();
  t.after(() => dirs.cleanup());
  const repos = await openRepositories(await imageConfig(repo), {
    arch: 'amd64',
    env: {},
    checkValidUntil: false,
    ...dirs,
  });
  t.after(() => repos.close());
  assert.equal(repos.candidate('hello')?.version, '1.0-1');
});

test('an expired Release of a snapshot archive is accepted', async (t) => {
  const past = new Date(Date.now() - 86_400_000).toUTCString();
  const repos = await open(t, {
    pathPrefix: '/archive/debian/20250520T000000Z',
    releaseFields: { stable: { 'Valid-Until': past } },
  });
  t.after(() => repos.close());
  assert.equal(repos.candidate('hello')?.version, '1.0-1');
});

test('RSA keys verify like ed25519 keys', async (t) => {
  const repos = await open(t, { keyAlgorithm: 'rsa2048' });
  t.after(() => repos.close());
  assert.equal(repos.candidate('hello')?.version, '1.0-1');
});

test('a damaged .deb in the cache is downloaded again', async (t) => {
  const repo = await startAptRepository({ packages });
  t.after(() => repo.stop());
  const dirs = await scratch();
  t.after(() => dirs.cleanup());
  const repos = await openRepositories(await imageConfig(repo), {
    arch: 'amd64',
    env: {},
    ...dirs,
  });
  t.after(() => repos.close());
  const hello = repos.candidate('hello')!;
  const deb = await repos.download(hello);
  await fs.writeFile(deb, Buffer.alloc(hello.sizeBytes, 0x41));
  const again = await openRepositories(await imageConfig(repo), {
    arch: 'amd64',
    env: {},
    ...dirs,
  });
  t.after(() => again.close());
  const before = repo.requests.length;
  assert.equal(await again.download(again.candidate('hello')!), deb);
  assert.equal(repo.requests.slice(before).filter((r) => r.path.endsWith('.deb')).length, 1);
  assert.notDeepEqual(await fs.readFile(deb), Buffer.alloc(hello.sizeBytes, 0x41));
});
