import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { isCopaError } from '../errors.js';
import { dockerConfigKeychain, staticKeychain } from './keychain.js';

describe('dockerConfigKeychain()', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copa-keychain-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const keychainFor = async (config: unknown, env: NodeJS.ProcessEnv = {}) => {
    const file = join(dir, `${Math.random()}.json`);
    await writeFile(file, JSON.stringify(config));
    return dockerConfigKeychain({ configFile: file, env });
  };

  test('decodes "auth", keeping colons in the password', async () => {
    const auth = Buffer.from('me:a:b').toString('base64');
    const k = await keychainFor({ auths: { 'reg.example:5000': { auth } } });
    assert.deepEqual(await k.resolve('reg.example:5000'), { username: 'me', password: 'a:b' });
  });

  test('matches keys written with a scheme and path', async () => {
    const k = await keychainFor({
      auths: { 'https://reg.example/v1/': { username: 'u', password: 'p' } },
    });
    assert.deepEqual(await k.resolve('reg.example'), { username: 'u', password: 'p' });
    assert.equal(await k.resolve('other.example'), undefined);
  });

  test('finds Docker Hub under its index server address', async () => {
    const auth = Buffer.from('hub:pw').toString('base64');
    const k = await keychainFor({ auths: { 'https://index.docker.io/v1/': { auth } } });
    assert.deepEqual(await k.resolve('docker.io'), { username: 'hub', password: 'pw' });
  });

  test('returns identity tokens as such', async () => {
    const k = await keychainFor({ auths: { r: { username: 'u', identitytoken: 'tok' } } });
    assert.deepEqual(await k.resolve('r'), { identityToken: 'tok', username: 'u' });
  });

  test('reads $DOCKER_CONFIG/config.json and treats a missing file as anonymous', async () => {
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ auths: { r: { username: 'a', password: 'b' } } }),
    );
    assert.deepEqual(await dockerConfigKeychain({ env: { DOCKER_CONFIG: dir } }).resolve('r'), {
      username: 'a',
      password: 'b',
    });
    const missing = dockerConfigKeychain({ env: { DOCKER_CONFIG: join(dir, 'none') } });
    assert.equal(await missing.resolve('r'), undefined);
  });

  test('asks a credential helper, which may hold an identity token', async () => {
    const helper = join(dir, 'docker-credential-tok');
    await writeFile(
      helper,
      '#!/bin/sh\nread -r s\nprintf \'{"Username":"<token>","Secret":"rt-%s"}\' "$s"\n',
    );
    await chmod(helper, 0o755);
    const k = await keychainFor(
      { credHelpers: { 'reg.example': 'tok' } },
      { PATH: `${dir}:/usr/bin:/bin` },
    );
    assert.deepEqual(await k.resolve('reg.example'), { identityToken: 'rt-reg.example' });
  });

  test('reports a missing helper as CREDENTIALS_INVALID', async () => {
    const k = await keychainFor({ credsStore: 'absent' }, { PATH: dir });
    await assert.rejects(k.resolve('r'), (err) => isCopaError(err, 'CREDENTIALS_INVALID'));
  });
});

test('staticKeychain() returns the credentials given for a registry', async () => {
  const k = staticKeychain({ 'ghcr.io': { username: 'u', password: 'p' } });
  assert.deepEqual(await k.resolve('ghcr.io'), { username: 'u', password: 'p' });
  assert.equal(await k.resolve('docker.io'), undefined);
});
