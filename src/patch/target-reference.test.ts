import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isCopaError } from '../errors.js';
import { formatReference, parseReference } from '../reference/index.js';
import { platformTag, resolveTargetReference } from './target-reference.js';

const source = parseReference('127.0.0.1:5000/demo/debian:bookworm');

test('resolveTargetReference() derives <tag>-<suffix> on the source repository', async (t) => {
  const rows: [string, { tag?: string; tagSuffix?: string }, string][] = [
    ['default suffix', {}, '127.0.0.1:5000/demo/debian:bookworm-patched'],
    ['empty suffix', { tagSuffix: '' }, '127.0.0.1:5000/demo/debian:bookworm-patched'],
    ['own suffix', { tagSuffix: 'fixed' }, '127.0.0.1:5000/demo/debian:bookworm-fixed'],
    ['bare tag', { tag: 'bookworm-patched' }, '127.0.0.1:5000/demo/debian:bookworm-patched'],
    ['full reference', { tag: 'localhost:6000/other/app:1' }, 'localhost:6000/other/app:1'],
  ];
  for (const [name, options, want] of rows) {
    await t.test(name, () => {
      assert.equal(formatReference(resolveTargetReference(source, options)), want);
    });
  }
});

test('resolveTargetReference() keeps the tag of a tag@digest source', () => {
  const pinned = parseReference(`127.0.0.1:5000/app:1.2@sha256:${'a'.repeat(64)}`);
  assert.equal(
    formatReference(resolveTargetReference(pinned, {})),
    '127.0.0.1:5000/app:1.2-patched',
  );
});

test('resolveTargetReference() is a usage error for a digest-only source without --tag', () => {
  const pinned = parseReference(`127.0.0.1:5000/app@sha256:${'a'.repeat(64)}`, {
    defaultTag: false,
  });
  assert.throws(
    () => resolveTargetReference(pinned, {}),
    (err) => isCopaError(err, 'USAGE'),
  );
});

test('resolveTargetReference() is a usage error for a full reference without a tag', () => {
  assert.throws(
    () => resolveTargetReference(source, { tag: `127.0.0.1:5000/app@sha256:${'b'.repeat(64)}` }),
    (err) => isCopaError(err, 'USAGE'),
  );
});

test('platformTag() appends arch and variant, dropping arm64 v8', () => {
  assert.equal(platformTag('1-patched', { os: 'linux', architecture: 'amd64' }), '1-patched-amd64');
  assert.equal(
    platformTag('1-patched', { os: 'linux', architecture: 'arm', variant: 'v7' }),
    '1-patched-arm-v7',
  );
  assert.equal(
    platformTag('1-patched', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    '1-patched-arm64',
  );
});
