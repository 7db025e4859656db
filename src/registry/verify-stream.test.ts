import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isCopaError } from '../errors.js';
import { digestOf, verifyStream } from './verify-stream.js';

async function* pieces(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

async function drain(stream: AsyncIterable<Uint8Array>): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += Buffer.from(chunk).toString();
  return out;
}

const digest = digestOf(Buffer.from('hello world'));

test('verifyStream() passes matching content through', async () => {
  assert.equal(
    await drain(verifyStream(pieces('hello ', 'world'), digest, { what: 'x', size: 11 })),
    'hello world',
  );
});

const bad: [name: string, parts: string[], size?: number][] = [
  ['other bytes', ['hello there']],
  ['too few bytes', ['hello'], 11],
  ['too many bytes', ['hello world!'], 11],
];
for (const [name, parts, size] of bad) {
  test(`verifyStream() fails with DIGEST_MISMATCH on ${name}`, async () => {
    const stream = verifyStream(pieces(...parts), digest, { what: 'x', ...(size && { size }) });
    await assert.rejects(drain(stream), (err) => isCopaError(err, 'DIGEST_MISMATCH'));
  });
}

test('digestOf() supports sha512', () => {
  assert.match(digestOf(Buffer.from(''), 'sha512'), /^sha512:[0-9a-f]{128}$/);
});
