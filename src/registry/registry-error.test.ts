import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseErrorBody, redactUrl } from './registry-error.js';

test('redactUrl() hides user info and secret query values but keeps digests', () => {
  const url = 'https://user:pw@blob.example/x?X-Amz-Signature=abc&digest=sha256%3A00&_state=s';
  const redacted = redactUrl(url);
  assert.doesNotMatch(redacted, /pw|abc|_state=s/);
  assert.match(redacted, /digest=sha256%3A00/);
});

test('parseErrorBody() reads distribution-spec error codes and ignores other bodies', () => {
  const body = Buffer.from('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
  assert.deepEqual(parseErrorBody(body), [
    { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' },
  ]);
  assert.deepEqual(parseErrorBody(Buffer.from('<html>')), []);
});
