import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isTransientNetworkError, isTransientStatus, retryAfterMs } from './retry.js';
import { isLoopbackHost } from './transport.js';

test('retryAfterMs() reads seconds and HTTP dates', () => {
  assert.equal(retryAfterMs('3'), 3000);
  assert.equal(retryAfterMs(undefined), undefined);
  const later = retryAfterMs(new Date(Date.now() + 5000).toUTCString()) ?? 0;
  assert.ok(later > 3000 && later <= 5000);
});

test('isTransientStatus() retries 429 and 5xx but not 501 or 4xx', () => {
  assert.deepEqual([429, 500, 502, 503, 501, 404, 400].map(isTransientStatus), [
    true,
    true,
    true,
    true,
    false,
    false,
    false,
  ]);
});

test('isTransientNetworkError() retries dropped connections, not refused ones', () => {
  assert.equal(
    isTransientNetworkError(Object.assign(new Error('x'), { code: 'ECONNRESET' })),
    true,
  );
  assert.equal(
    isTransientNetworkError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })),
    false,
  );
});

test('isLoopbackHost() knows localhost, 127.0.0.0/8 and ::1', () => {
  const hosts = [
    'localhost:5000',
    '127.0.0.1',
    '127.1.2.3:80',
    '[::1]:5000',
    '128.0.0.1',
    'ghcr.io',
  ];
  assert.deepEqual(hosts.map(isLoopbackHost), [true, true, true, true, false, false]);
});
