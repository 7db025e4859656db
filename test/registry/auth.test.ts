import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { CopaError, isCopaError } from '../../src/errors.js';
import { pushImage, remoteManifestOrIndex } from '../../src/image/remote.js';
import { parseReference } from '../../src/reference/index.js';
import {
  RegistryClient,
  anonymousKeychain,
  dockerConfigKeychain,
  type RegistryClientOptions,
} from '../../src/registry/index.js';
import { randomImage } from '../support/random-image.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const username = 'copa';
const password = 'pa55-Word:with-colon';

/** Asserts a one-line CopaError with `code`, a hint, and no secret anywhere in it. */
function assertCopaError(err: unknown, code: string): true {
  assert.ok(err instanceof CopaError, `expected a CopaError, got ${String(err)}`);
  assert.equal(err.code, code);
  assert.doesNotMatch(err.message, /\n/);
  assert.ok((err.hint ?? '') !== '', 'has a hint');
  const text = JSON.stringify({ m: err.message, h: err.hint, e: err });
  assert.ok(!text.includes(password), 'no password in the error');
  assert.ok(!text.includes(Buffer.from(`${username}:${password}`).toString('base64')));
  return true;
}

describe('a TLS registry with htpasswd auth', () => {
  let registry: TestRegistry;
  let dir: string;
  let certsDir: string;
  const clients: RegistryClient[] = [];

  const clientWith = (options: RegistryClientOptions): RegistryClient => {
    const client = new RegistryClient({
      env: {},
      certsDir,
      retry: { baseDelayMs: 10 },
      ...options,
    });
    clients.push(client);
    return client;
  };
  const writeConfig = async (name: string, config: unknown): Promise<string> => {
    const file = join(dir, name, 'config.json');
    await mkdir(join(dir, name), { recursive: true });
    await writeFile(file, JSON.stringify(config));
    return file;
  };

  before(async () => {
    registry = await startRegistry({ tls: true, auth: { username, password } });
    dir = await mkdtemp(join(tmpdir(), 'copa-auth-'));
    certsDir = join(dir, 'certs.d');
    await mkdir(join(certsDir, registry.host), { recursive: true });
    await copyFile(registry.caFile!, join(certsDir, registry.host, 'ca.crt'));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('pushes and pulls with an "auth" entry of a docker config and a certs.d CA', async () => {
    const auth = Buffer.from(`${username}:${password}`).toString('base64');
    const configFile = await writeConfig('basic', {
      auths: { [`https://${registry.host}`]: { auth } },
    });
    const client = clientWith({ credentials: dockerConfigKeychain({ configFile, env: {} }) });
    const ref = parseReference(`${registry.host}/private/app:v1`);
    const image = await randomImage(21);
    const pushed = await pushImage(client, ref, image);
    const pulled = await remoteManifestOrIndex(ref, client);
    assert.equal(pulled.kind, 'image');
    assert.equal(pushed.digest, await image.digest());
  });

  test('pulls with credentials from a credential helper on PATH', async () => {
    const bin = join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    const helper = join(bin, 'docker-credential-copatest');
    const reply = JSON.stringify({
      ServerURL: registry.host,
      Username: username,
      Secret: password,
    });
    await writeFile(
      helper,
      [
        '#!/bin/sh',
        'read -r server',
        `if [ "$1" = get ] && [ "$server" = "${registry.host}" ]; then`,
        `  printf '%s' '${reply}'`,
        'else',
        '  echo "credentials not found in native keychain"; exit 1',
        'fi',
        '',
      ].join('\n'),
    );
    await chmod(helper, 0o755);
    const env = { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` };
    const ref = parseReference(`${registry.host}/private/helper:v1`);
    await pushImage(
      clientWith({
        credentials: dockerConfigKeychain({
          configFile: await writeConfig('a', {
            auths: { [registry.host]: { username, password } },
          }),
          env,
        }),
      }),
      ref,
      await randomImage(22),
    );

    for (const config of [
      { credHelpers: { [registry.host]: 'copatest' } },
      { credsStore: 'copatest' },
    ]) {
      const configFile = await writeConfig(Object.keys(config)[0]!, config);
      const client = clientWith({ credentials: dockerConfigKeychain({ configFile, env }) });
      assert.equal(
        (await client.getManifest(ref)).mediaType,
        'application/vnd.oci.image.manifest.v1+json',
      );
    }
  });

  test('wrong credentials give REGISTRY_UNAUTHORIZED with a docker login hint', async () => {
    const configFile = await writeConfig('wrong', {
      auths: { [registry.host]: { username, password: `${password}x` } },
    });
    const client = clientWith({ credentials: dockerConfigKeychain({ configFile, env: {} }) });
    await assert.rejects(
      client.getManifest(parseReference(`${registry.host}/private/app:v1`)),
      (err) => {
        assertCopaError(err, 'REGISTRY_UNAUTHORIZED');
        assert.match((err as CopaError).message, /credentials rejected/);
        assert.match((err as CopaError).hint ?? '', new RegExp(`docker login ${registry.host}`));
        return true;
      },
    );
  });

  test('no credentials give REGISTRY_UNAUTHORIZED', async () => {
    const client = clientWith({ credentials: anonymousKeychain });
    await assert.rejects(
      client.getManifest(parseReference(`${registry.host}/private/app:v1`)),
      (err) => assertCopaError(err, 'REGISTRY_UNAUTHORIZED'),
    );
  });

  test('an unknown CA gives REGISTRY_UNREACHABLE naming the certificate', async () => {
    const client = clientWith({ credentials: anonymousKeychain, certsDir: join(dir, 'none') });
    await assert.rejects(
      client.getManifest(parseReference(`${registry.host}/private/app:v1`)),
      (err) => {
        assertCopaError(err, 'REGISTRY_UNREACHABLE');
        assert.match((err as CopaError).message, /TLS certificate of "[^"]+" \([A-Z_]+\)$/);
        return true;
      },
    );
  });

  test('SSL_CERT_FILE adds a trusted CA', async () => {
    const client = clientWith({
      credentials: dockerConfigKeychain({
        configFile: await writeConfig('ssl', {
          auths: { [registry.host]: { username, password } },
        }),
        env: {},
      }),
      certsDir: join(dir, 'none'),
      env: { SSL_CERT_FILE: registry.caFile! },
    });
    await client.getManifest(parseReference(`${registry.host}/private/app:v1`));
  });

  test('an insecure registry is reached without verifying its certificate', async () => {
    const keychain = dockerConfigKeychain({
      configFile: await writeConfig('insecure', {
        auths: { [registry.host]: { username, password } },
      }),
      env: {},
    });
    for (const options of [
      { insecureRegistries: [registry.host] },
      { env: { COPA_INSECURE_REGISTRIES: `other.example, ${registry.host}` } },
    ]) {
      const client = clientWith({ credentials: keychain, certsDir: join(dir, 'none'), ...options });
      await client.getManifest(parseReference(`${registry.host}/private/app:v1`));
    }
  });

  test('a corrupt docker config gives CREDENTIALS_INVALID naming the file', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, '{ not json');
    const client = clientWith({ credentials: dockerConfigKeychain({ configFile: file, env: {} }) });
    await assert.rejects(
      client.getManifest(parseReference(`${registry.host}/private/app:v1`)),
      (err) => {
        assert.ok(isCopaError(err, 'CREDENTIALS_INVALID'));
        assert.match(err.message, /bad\.json/);
        return true;
      },
    );
  });
});

describe('a TLS registry that requires client certificates', () => {
  let registry: TestRegistry;
  let dir: string;
  const clients: RegistryClient[] = [];
  before(async () => {
    registry = await startRegistry({ clientCertificates: true });
    dir = await mkdtemp(join(tmpdir(), 'copa-mtls-'));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const certsDirWith = async (name: string, files: Record<string, string>): Promise<string> => {
    const hostDir = join(dir, name, registry.host);
    await mkdir(hostDir, { recursive: true });
    for (const [to, from] of Object.entries(files)) await copyFile(from, join(hostDir, to));
    return join(dir, name);
  };
  const client = (certsDir: string): RegistryClient => {
    const retry = { baseDelayMs: 5 };
    const c = new RegistryClient({ credentials: anonymousKeychain, env: {}, certsDir, retry });
    clients.push(c);
    return c;
  };

  test('sends the client certificate found in certs.d', async () => {
    const certsDir = await certsDirWith('with-client', {
      'ca.crt': registry.caFile!,
      'client.cert': registry.clientCertFile!,
      'client.key': registry.clientKeyFile!,
    });
    const ref = parseReference(`${registry.host}/mtls/app:v1`);
    const image = await randomImage(23);
    assert.equal((await pushImage(client(certsDir), ref, image)).digest, await image.digest());
  });

  test('fails with REGISTRY_UNREACHABLE without a client certificate', async () => {
    const certsDir = await certsDirWith('ca-only', { 'ca.crt': registry.caFile! });
    await assert.rejects(
      client(certsDir).getManifest(parseReference(`${registry.host}/mtls/app:v1`)),
      (err) => isCopaError(err, 'REGISTRY_UNREACHABLE'),
    );
  });
});
