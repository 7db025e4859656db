import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { isCopaError } from '../errors.js';
import {
  familiarReference,
  formatReference,
  parseReference,
  registryApiHost,
  tryParseReference,
  withDigest,
  withTag,
} from './index.js';

const d64 = `sha256:${'ab'.repeat(32)}`;

describe('parseReference()', () => {
  const valid: [name: string, input: string, normalised: string][] = [
    ['official image', 'nginx', 'docker.io/library/nginx:latest'],
    ['official image with tag', 'nginx:1.25', 'docker.io/library/nginx:1.25'],
    ['hub user repository', 'acme/app:v1', 'docker.io/acme/app:v1'],
    ['index.docker.io alias', 'index.docker.io/library/nginx', 'docker.io/library/nginx:latest'],
    ['explicit docker.io', 'docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['host with port', 'reg.example:5000/ns/repo:tag', 'reg.example:5000/ns/repo:tag'],
    ['localhost', 'localhost/app', 'localhost/app:latest'],
    ['localhost with port', 'localhost:5000/app:1', 'localhost:5000/app:1'],
    ['loopback IP with port', '127.0.0.1:5000/x', '127.0.0.1:5000/x:latest'],
    ['IPv6 host', '[::1]:5000/x:y', '[::1]:5000/x:y'],
    ['digest only', `ghcr.io/a/b@${d64}`, `ghcr.io/a/b@${d64}`],
    ['tag and digest', `host:1/ns/repo:tag@${d64}`, `host:1/ns/repo:tag@${d64}`],
    ['separators', 'a/b__c.d-e--f:T_a.g-1', 'docker.io/a/b__c.d-e--f:T_a.g-1'],
    ['deep path', 'quay.io/a/b/c/d', 'quay.io/a/b/c/d:latest'],
    ['sha512 digest', `x/y@sha512:${'0'.repeat(128)}`, `docker.io/x/y@sha512:${'0'.repeat(128)}`],
  ];
  for (const [name, input, normalised] of valid) {
    test(`normalises ${name}`, () => {
      assert.equal(formatReference(parseReference(input)), normalised);
    });
  }

  const invalid: [name: string, input: string][] = [
    ['empty', ''],
    ['spaces', ' nginx'],
    ['upper-case repository', 'docker.io/library/NGINX'],
    ['upper-case short name', 'Nginx'],
    ['short digest', 'nginx@sha256:abc'],
    ['upper-case digest hex', `nginx@sha256:${'AB'.repeat(32)}`],
    ['unknown digest algorithm', `nginx@md5:${'a'.repeat(32)}`],
    ['bad tag', 'nginx:-x'],
    ['long tag', `nginx:${'a'.repeat(129)}`],
    ['empty tag', 'nginx:'],
    ['double slash', 'a//b'],
    ['trailing slash', 'a/b/'],
    ['leading separator', 'a/-b'],
    ['bad host', 'exa_mple.com/a'],
    ['too long', `a/${'b'.repeat(260)}`],
  ];
  for (const [name, input] of invalid) {
    test(`rejects ${name} with REFERENCE_INVALID and a hint`, () => {
      assert.throws(
        () => parseReference(input),
        (err) => isCopaError(err, 'REFERENCE_INVALID') && (err.hint ?? '') !== '',
      );
      assert.equal(tryParseReference(input), undefined);
    });
  }

  test('parses parts of a full reference', () => {
    assert.deepEqual(parseReference(`127.0.0.1:5000/ns/repo:tag@${d64}`), {
      registry: '127.0.0.1:5000',
      repository: 'ns/repo',
      tag: 'tag',
      digest: d64,
    });
  });

  test('leaves the tag out when defaultTag is false', () => {
    assert.deepEqual(parseReference('nginx', { defaultTag: false }), {
      registry: 'docker.io',
      repository: 'library/nginx',
    });
  });

  test('does not add latest to a reference pinned by digest', () => {
    assert.equal(parseReference(`nginx@${d64}`).tag, undefined);
  });
});

describe('familiarReference()', () => {
  const cases: [input: string, familiar: string][] = [
    ['nginx', 'nginx:latest'],
    ['docker.io/acme/app:1', 'acme/app:1'],
    ['docker.io/library/a/b', 'library/a/b:latest'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    [`nginx@${d64}`, `nginx@${d64}`],
  ];
  for (const [input, familiar] of cases) {
    test(`shortens "${input}" to "${familiar}"`, () => {
      assert.equal(familiarReference(parseReference(input)), familiar);
    });
  }
});

describe('withTag() and withDigest()', () => {
  test('withTag() replaces the tag and withDigest() pins the reference', () => {
    const ref = withDigest(withTag(parseReference('nginx:1'), '2'), d64);
    assert.equal(formatReference(ref), `docker.io/library/nginx:2@${d64}`);
  });

  test('withTag() and withDigest() reject invalid values', () => {
    const ref = parseReference('nginx');
    assert.throws(
      () => withTag(ref, '.x'),
      (e) => isCopaError(e, 'REFERENCE_INVALID'),
    );
    assert.throws(
      () => withDigest(ref, 'sha256:1'),
      (e) => isCopaError(e, 'REFERENCE_INVALID'),
    );
  });
});

test('registryApiHost() maps docker.io to its API host', () => {
  assert.equal(registryApiHost('docker.io'), 'registry-1.docker.io');
  assert.equal(registryApiHost('ghcr.io'), 'ghcr.io');
});
