import { createHash } from 'node:crypto';

import { CopaError } from '../errors.js';

/** Digest of bytes in memory, `sha256:<hex>` by default. */
export function digestOf(bytes: Uint8Array, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export interface VerifyOptions {
  /** Expected size in bytes; more bytes fail at once, fewer at the end. */
  size?: number;
  /** Names the content in errors, such as `blob "sha256:…" of "repo"`. */
  what: string;
}

/**
 * Passes `source` through while hashing it, and fails with `DIGEST_MISMATCH` at the end when the
 * bytes do not match `digest` (or the size). Nothing is buffered.
 */
export async function* verifyStream(
  source: AsyncIterable<Uint8Array>,
  digest: string,
  options: VerifyOptions,
): AsyncGenerator<Uint8Array, void, undefined> {
  const [algorithm = ''] = digest.split(':');
  const hash = createHash(algorithm);
  let received = 0;
  for await (const chunk of source) {
    received += chunk.byteLength;
    if (options.size !== undefined && received > options.size) {
      throw mismatch(options.what, `more than the expected ${options.size} bytes`);
    }
    hash.update(chunk);
    yield chunk;
  }
  const actual = `${algorithm}:${hash.digest('hex')}`;
  if (options.size !== undefined && received !== options.size) {
    throw mismatch(options.what, `got ${received} of ${options.size} bytes`);
  }
  if (actual !== digest) throw mismatch(options.what, `content has digest "${actual}"`);
}

/** The remedy of a `DIGEST_MISMATCH` on pulled content. */
export const DIGEST_MISMATCH_HINT =
  'The content changed in transit or in the registry; try again, and tell the registry ' +
  'operator if it persists.';

function mismatch(what: string, reason: string): CopaError {
  return new CopaError('DIGEST_MISMATCH', `verifying ${what}: ${reason}`, {
    hint: DIGEST_MISMATCH_HINT,
  });
}
