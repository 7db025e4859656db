import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isCopaError } from '../errors.js';
import { formatReference, parseReference } from '../reference/index.js';
import { checkPublishTarget } from './publish.js';

const layout = { layout: { dir: '/tmp/l', tag: 'bookworm' } };

test('checkPublishTarget() names a layout result <tag>-<suffix> without a registry', () => {
  assert.deepEqual(checkPublishTarget(layout, { push: false }), {
    kind: 'layout-tag',
    tag: 'bookworm-patched',
  });
  assert.deepEqual(checkPublishTarget(layout, { push: false, tag: 'x' }), {
    kind: 'layout-tag',
    tag: 'x',
  });
});

test('checkPublishTarget() sends a layout result to the registry a full --tag names', () => {
  const target = checkPublishTarget(layout, { push: true, tag: '127.0.0.1:5000/app:1-patched' });
  assert.ok(target.kind === 'registry');
  assert.equal(formatReference(target.reference), '127.0.0.1:5000/app:1-patched');
});

test('checkPublishTarget() is a usage error when a layout result is pushed nowhere', () => {
  assert.throws(
    () => checkPublishTarget(layout, { push: true }),
    (err) => isCopaError(err, 'USAGE'),
  );
});

test('checkPublishTarget() is a usage error for a digest-only source without --tag', () => {
  const reference = parseReference(`127.0.0.1:5000/app@sha256:${'c'.repeat(64)}`, {
    defaultTag: false,
  });
  assert.throws(
    () => checkPublishTarget({ reference }, { push: true }),
    (err) => isCopaError(err, 'USAGE'),
  );
});
