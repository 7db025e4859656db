/**
 * Content digests (`sha256:<hex>`), always computed over exact bytes.
 */
import { createHash, type Hash } from 'node:crypto';

import { CopaError } from '../errors.js';
import type { ByteStream } from './types.js';

const digestPattern = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** Returns the `sha256:<hex>` digest of the bytes. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Reports whether the text is a well-formed `sha256:` or `sha512:` digest. */
export function isDigest(text: string): boolean {
  return digestPattern.test(text);
}

/**
 * Splits a digest into algorithm and hex. Throws a `CopaError` with code `DIGEST_MISMATCH` when
 * the text is not a well-formed digest (a blob with such a name cannot be verified).
 */
export function splitDigest(digest: string): { algorithm: 'sha256' | 'sha512'; hex: string } {
  if (!isDigest(digest)) {
    throw new CopaError(
      'DIGEST_MISMATCH',
      `checking digest "${digest}": not a sha256 or sha512 digest`,
    );
  }
  const [algorithm, hex] = digest.split(':') as ['sha256' | 'sha512', string];
  return { algorithm, hex };
}

/** An incremental digest over bytes fed through {@link DigestCounter.update}, with their count. */
export class DigestCounter {
  readonly #hash: Hash;
  readonly #algorithm: string;
  sizeBytes = 0;

  constructor(algorithm: 'sha256' | 'sha512' = 'sha256') {
    this.#algorithm = algorithm;
    this.#hash = createHash(algorithm);
  }

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.sizeBytes += chunk.byteLength;
  }

  /** Returns the digest; call once, after the last update. */
  digest(): string {
    return `${this.#algorithm}:${this.#hash.digest('hex')}`;
  }
}

/** Returns the digest and size of a whole stream, consuming it. */
export async function digestStream(
  stream: ByteStream,
): Promise<{ digest: string; sizeBytes: number }> {
  const counter = new DigestCounter();
  for await (const chunk of stream) counter.update(chunk);
  return { digest: counter.digest(), sizeBytes: counter.sizeBytes };
}

/**
 * Passes a stream through while checking it against a digest (and a size, when given). The
 * check runs as bytes flow: the returned stream throws a `CopaError` with code `DIGEST_MISMATCH`
 * at its end when the bytes do not match, and as soon as they exceed the size.
 */
export async function* verifyStream(
  stream: ByteStream,
  expected: { digest: string; sizeBytes?: number; what: string },
): ByteStream {
  const counter = new DigestCounter(splitDigest(expected.digest).algorithm);
  for await (const chunk of stream) {
    counter.update(chunk);
    if (expected.sizeBytes !== undefined && counter.sizeBytes > expected.sizeBytes) {
      throw sizeMismatch(expected.what, expected.sizeBytes, counter.sizeBytes);
    }
    yield chunk;
  }
  if (expected.sizeBytes !== undefined && counter.sizeBytes !== expected.sizeBytes) {
    throw sizeMismatch(expected.what, expected.sizeBytes, counter.sizeBytes);
  }
  const actual = counter.digest();
  if (actual !== expected.digest) {
    throw new CopaError(
      'DIGEST_MISMATCH',
      `verifying ${expected.what}: content has digest "${actual}", expected "${expected.digest}"`,
    );
  }
}

function sizeMismatch(what: string, want: number, got: number): CopaError {
  const amount = got > want ? `more than ${want}` : `${got}`;
  return new CopaError(
    'DIGEST_MISMATCH',
    `verifying ${what}: content has ${amount} bytes, expected ${want}`,
  );
}

/** Checks exact bytes against a digest, throwing `DIGEST_MISMATCH` naming `what` on a mismatch. */
export function verifyBytes(bytes: Uint8Array, digest: string, what: string): void {
  const { algorithm } = splitDigest(digest);
  const actual = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
  if (actual !== digest) {
    throw new CopaError(
      'DIGEST_MISMATCH',
      `verifying ${what}: content has digest "${actual}", expected "${digest}"`,
    );
  }
}
