import assert from 'node:assert/strict';
import type { LookupFunction } from 'node:net';
import { after, before, describe, test } from 'node:test';

import { Agent } from 'undici';

import { CopaError } from '../../src/errors.js';
import { parseReference } from '../../src/reference/index.js';
import { RegistryClient, RegistryError, anonymousKeychain } from '../../src/registry/index.js';
import { freePort, startRegistry, type TestRegistry } from '../support/registry.js';

function assertOneLine(err: unknown, code: string): err is CopaError {
  assert.ok(err instanceof CopaError, `expected a CopaError, got ${String(err)}`);
  assert.equal(err.code, code);
  assert.doesNotMatch(err.message, /\n/);
  assert.ok((err.hint ?? '') !== '', 'has a hint');
  return true;
}

describe('bad input to the registry client', () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  before(async () => {
    registry = await startRegistry();
    client = new RegistryClient({
      credentials: anonymousKeychain,
      env: {},
      retry: { baseDelayMs: 5 },
    });
  });
  after(async () => {
    await client.close();
    await registry.stop();
  });

  for (const input of ['acme/App', 'nginx:bad tag', 'nginx@sha256:123', 'a//b', '']) {
    test(`the malformed reference "${input}" gives REFERENCE_INVALID`, () => {
      assert.throws(
        () => parseReference(input),
        (err) => assertOneLine(err, 'REFERENCE_INVALID'),
      );
    });
  }

  test('an unknown host gives REGISTRY_UNREACHABLE naming the host', async () => {
    // Name resolution is answered here, so the test touches no resolver outside this host.
    const lookup: LookupFunction = (hostname, _options, callback) => {
      const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
        code: 'ENOTFOUND',
      });
      process.nextTick(() => callback(err, '', 4));
    };
    const dispatcher = new Agent({ connect: { lookup } });
    const offline = new RegistryClient({ credentials: anonymousKeychain, dispatcher, env: {} });
    try {
      await assert.rejects(
        offline.getManifest(parseReference('no-such-registry.invalid/app:1')),
        (err) => {
          assertOneLine(err, 'REGISTRY_UNREACHABLE');
          assert.match((err as Error).message, /unknown host "no-such-registry\.invalid"/);
          return true;
        },
      );
    } finally {
      await offline.close();
      await dispatcher.close();
    }
  });

  test('a closed port gives REGISTRY_UNREACHABLE naming the host', async () => {
    const host = `127.0.0.1:${await freePort()}`;
    await assert.rejects(client.getManifest(parseReference(`${host}/app:1`)), (err) => {
      assertOneLine(err, 'REGISTRY_UNREACHABLE');
      assert.match((err as Error).message, new RegExp(`"${host}" \\(ECONNREFUSED\\)`));
      return true;
    });
  });

  test('a missing tag gives REGISTRY_NOT_FOUND naming the tag and repository', async () => {
    await assert.rejects(
      client.getManifest(parseReference(`${registry.host}/nothing/here:v9`)),
      (err) => {
        assertOneLine(err, 'REGISTRY_NOT_FOUND');
        const e = err as RegistryError;
        assert.equal(e.status, 404);
        assert.ok(e.registryCodes.length > 0);
        assert.match(e.message, /nothing\/here:v9/);
        assert.match(e.hint ?? '', /"v9"/);
        return true;
      },
    );
  });

  test('a missing blob gives REGISTRY_NOT_FOUND', async () => {
    const repo = { registry: registry.host, repository: 'nothing/here' };
    await assert.rejects(client.getBlob(repo, `sha256:${'0'.repeat(64)}`), (err) =>
      assertOneLine(err, 'REGISTRY_NOT_FOUND'),
    );
    assert.equal(await client.blobExists(repo, `sha256:${'0'.repeat(64)}`), false);
    assert.equal(
      await client.headManifest(parseReference(`${registry.host}/nothing/here:v9`)),
      undefined,
    );
  });
});
