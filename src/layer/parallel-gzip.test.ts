import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';

import { createParallelGzip, type ParallelGzipOptions } from './parallel-gzip.js';

const block = 64 * 1024;

async function gzip(input: Buffer, options: ParallelGzipOptions, chunk = 10_000): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) parts.push(input.subarray(i, i + chunk));
  return buffer(Readable.from(parts).pipe(createParallelGzip(options)));
}

/** Text-like input that compresses, with random runs, so blocks refer back across boundaries. */
function sample(bytes: number): Buffer {
  const words = ['usr/', 'lib/', 'share/', 'perl5/', 'x86_64-linux-gnu/', 'doc/', '.so.3', '\n'];
  const out = Buffer.alloc(bytes);
  let pos = 0;
  for (let i = 0; pos < bytes; i++) {
    const piece = i % 97 === 0 ? randomBytes(200) : Buffer.from(words[(i * 7) % words.length]!);
    pos += piece.copy(out, pos);
  }
  return out;
}

describe('createParallelGzip', () => {
  for (const size of [0, 1, block - 1, block, block + 1, 5 * block + 123, 3 * 1024 * 1024]) {
    it(`gives one gzip member that gunzip reads back (${size} bytes)`, async () => {
      const input = sample(size);
      const out = await gzip(input, { level: 6, blockBytes: block });
      assert.deepEqual(gunzipSync(out), input);
      // The system's gzip reads it too and finds no trailing garbage.
      assert.deepEqual(execFileSync('gzip', ['-dc'], { input: out, maxBuffer: 1 << 26 }), input);
    });
  }

  it('gives the same bytes whatever the concurrency and input chunking', async () => {
    const input = sample(2 * 1024 * 1024 + 77);
    const one = await gzip(input, { level: 6, blockBytes: block, concurrency: 1 }, 4096);
    const four = await gzip(input, { level: 6, blockBytes: block, concurrency: 4 }, 300_000);
    assert.deepEqual(one, four);
  });

  it('compresses about as well as one deflate stream', async () => {
    const input = sample(4 * 1024 * 1024);
    const { gzipSync } = await import('node:zlib');
    const single = gzipSync(input, { level: 6 }).length;
    const parallel = (await gzip(input, { level: 6, blockBytes: 1024 * 1024 })).length;
    assert.ok(parallel < single * 1.01, `${parallel} bytes against ${single}`);
  });

  it('writes the header zlib writes: no name, no time, Unix', async () => {
    const out = await gzip(Buffer.from('hello'), { level: 6 });
    assert.deepEqual([...out.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  });
});
