/**
 * Layer compression: detection by magic bytes, streaming decompression and the fixed compressor
 * settings of the layer writer.
 */
import { Readable, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';

import { CompressStream, DecompressStream } from 'zstd-napi';

import type { ByteStream } from '../image/types.js';
import { createParallelGzip } from './parallel-gzip.js';
import type { Compression } from './types.js';

const gzipMagic = [0x1f, 0x8b];
const zstdMagic = [0x28, 0xb5, 0x2f, 0xfd];

/** The zstd level of written layers; fixed so that the same tar always gives the same blob. */
export const zstdLevel = 3;

/** Input bytes per gzip block; part of the blob's bytes, so fixed. */
const GZIP_BLOCK_BYTES = 1024 * 1024;

/** Returns the compression of a blob from its first bytes (four are enough). */
export function detectCompression(head: Uint8Array): Compression {
  if (gzipMagic.every((b, i) => head[i] === b)) return 'gzip';
  if (zstdMagic.every((b, i) => head[i] === b)) return 'zstd';
  return 'uncompressed';
}

/**
 * Decompresses a stream whose compression is detected from its first bytes (gzip, including
 * concatenated members, zstd, or none). The input is read as the output is consumed; breaking
 * out of the output closes the input.
 */
export async function* decompressStream(source: ByteStream): ByteStream {
  const iterator = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < zstdMagic.length) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value);
    headBytes += next.value.byteLength;
  }

  async function* replay(): ByteStream {
    yield* head;
    if (ended) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      yield next.value;
    }
  }

  const compression = detectCompression(Buffer.concat(head));
  if (compression === 'uncompressed') {
    yield* replay();
    return;
  }
  yield* throughTransform(replay(), decompressor(compression));
}

function decompressor(compression: 'gzip' | 'zstd'): Transform {
  return compression === 'gzip' ? createGunzip() : new DecompressStream();
}

/**
 * Creates the compressor of written layers: gzip with no file name and a zero time in its header
 * (zlib's default header), deflated in blocks on several threads ({@link createParallelGzip}), or
 * zstd at {@link zstdLevel}.
 */
export function createCompressor(
  compression: 'gzip' | 'zstd',
  options: { gzipLevel?: number } = {},
): Transform {
  if (compression === 'gzip') {
    return createParallelGzip({ level: options.gzipLevel ?? 6, blockBytes: GZIP_BLOCK_BYTES });
  }
  return new CompressStream({ compressionLevel: zstdLevel, checksumFlag: false });
}

/** Pipes a stream through a transform, yielding its output; errors on either side propagate. */
export async function* throughTransform(source: ByteStream, transform: Transform): ByteStream {
  const input = Readable.from(source, { objectMode: false });
  input.on('error', (err) => transform.destroy(err));
  input.pipe(transform);
  try {
    for await (const chunk of transform) yield chunk as Uint8Array;
  } finally {
    input.destroy();
    transform.destroy();
  }
}
