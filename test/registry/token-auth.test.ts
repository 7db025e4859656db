import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { isCopaError } from '../../src/errors.js';
import { pushImage } from '../../src/image/remote.js';
import { parseReference } from '../../src/reference/index.js';
import {
  RegistryClient,
  anonymousKeychain,
  digestOf,
  staticKeychain,
} from '../../src/registry/index.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { randomImage } from '../support/random-image.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { startTokenServer, type TokenServer } from './token-server.js';

const user = { username: 'copa', password: 'token-pass' };

describe('a registry with bearer token auth', () => {
  let dir: string;
  let tokens: TokenServer;
  let registry: TestRegistry;
  const clients: RegistryClient[] = [];
  const clientWith = (credentials: Parameters<typeof staticKeychain>[0] | undefined) => {
    const client = new RegistryClient({
      credentials: credentials ? staticKeychain(credentials) : anonymousKeychain,
      env: {},
      retry: { baseDelayMs: 5 },
    });
    clients.push(client);
    return client;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copa-token-'));
    tokens = await startTokenServer(dir, user);
    registry = await startRegistry({ token: tokens });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await registry.stop();
    await tokens.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('push and pull fetch a token per scope from the realm and cache it', async () => {
    const client = clientWith({ [registry.host]: user });
    const ref = parseReference(`${registry.host}/tok/app:v1`);
    const image = await randomImage(31, { layers: 3 });
    tokens.requests.length = 0;
    await pushImage(client, ref, image);
    const pushTokens = tokens.requests.length;
    assert.ok(pushTokens >= 1 && pushTokens <= 2, `${pushTokens} token requests for one push`);
    assert.ok(tokens.requests.some((r) => r.scopes.includes('repository:tok/app:pull,push')));
    assert.ok(tokens.requests.every((r) => r.basicUser === user.username));

    const pulled = await client.getManifest(ref);
    assert.equal(pulled.digest, await image.digest());
    await client.getManifest(ref);
    assert.equal(tokens.requests.length, pushTokens, 'the push token serves pulls too');
    await clientWith({ [registry.host]: user }).getManifest(ref);
    assert.equal(tokens.requests.length, pushTokens + 1, 'a new client asks for a pull token');
  });

  test('an identity token is exchanged with a refresh_token grant', async () => {
    const client = clientWith({ [registry.host]: { identityToken: 'refresh' } });
    tokens.requests.length = 0;
    await client.getManifest(parseReference(`${registry.host}/tok/app:v1`));
    assert.deepEqual(
      tokens.requests.map((r) => [r.method, r.grantType]),
      [['POST', 'refresh_token']],
    );
  });

  test('a blob redirected to another host is fetched without the Authorization header', async () => {
    const client = clientWith({ [registry.host]: user });
    const blob = Buffer.from('redirected blob content');
    const digest = digestOf(blob);
    const repo = { registry: registry.host, repository: 'tok/app' };
    await client.pushBlob(repo, digest, blob.length, async function* () {
      yield blob;
    });

    const seen: (string | undefined)[] = [];
    const storage = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-length': String(blob.length) }).end(blob);
    });
    await new Promise<void>((resolve) => storage.listen(0, '127.0.0.1', resolve));
    const proxy = await startFaultProxy(registry.host);
    try {
      const port = (storage.address() as AddressInfo).port;
      const blobPath = new RegExp(`/blobs/${digest}$`);
      const viaProxy = clientWith({ [proxy.host]: user });
      assert.ok(await viaProxy.blobExists({ ...repo, registry: proxy.host }, digest));
      const location = `http://127.0.0.1:${port}/b?sig=x`;
      proxy.inject({ kind: 'redirect', method: 'GET', path: blobPath, location });
      const body: Uint8Array[] = [];
      for await (const c of await viaProxy.getBlob({ ...repo, registry: proxy.host }, digest)) {
        body.push(c);
      }
      assert.deepEqual(Buffer.concat(body), blob);
      assert.deepEqual(seen, [undefined]);
      assert.ok(proxy.requests.some((r) => blobPath.test(r.path) && r.authorized));
    } finally {
      await proxy.stop();
      storage.closeAllConnections();
      await new Promise((resolve) => storage.close(resolve));
    }
  });

  test('a token without access gives REGISTRY_UNAUTHORIZED', async () => {
    const client = clientWith(undefined);
    await assert.rejects(client.getManifest(parseReference(`${registry.host}/tok/app:v1`)), (err) =>
      isCopaError(err, 'REGISTRY_UNAUTHORIZED'),
    );
  });
});
