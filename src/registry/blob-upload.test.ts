import assert from 'node:assert/strict';
import { test } from 'node:test';

import { rechunk } from './blob-upload.js';

test('rechunk() regroups pieces into chunks of the given size, the last one shorter', async () => {
  async function* pieces() {
    yield Buffer.from('abc');
    yield Buffer.from('defghij');
    yield Buffer.from('k');
  }
  const out: string[] = [];
  for await (const chunk of rechunk(pieces(), 4)) out.push(Buffer.from(chunk).toString());
  assert.deepEqual(out, ['abcd', 'efgh', 'ijk']);
});
