/**
 * Release files: `InRelease` (clear-signed) or `Release` with a detached `Release.gpg`, checked
 * against the source's keys, then read for the hashes of the index files.
 * https://wiki.debian.org/DebianRepository/Format#A.22Release.22_files
 */
import {
  createMessage,
  readCleartextMessage,
  readSignature,
  verify,
  type Key,
  type VerifyMessageResult,
} from 'openpgp';

import { CopaError } from '../../../errors.js';
import { parseDeb822 } from './deb822.js';
import { redact } from './http-client.js';

type VerificationResult = VerifyMessageResult['signatures'][number];

/** An index file listed in a Release file. */
export interface ReleaseFile {
  readonly sha256: string;
  readonly sizeBytes: number;
}

/** The verified content of a Release file. */
export interface Release {
  /** Header fields by lower-case name. */
  readonly fields: ReadonlyMap<string, string>;
  /** `SHA256` entries by path relative to the suite's directory. */
  readonly files: ReadonlyMap<string, ReleaseFile>;
  readonly acquireByHash: boolean;
  /** apt's default pin priority of the suite: 500, 100 or 1. */
  readonly priority: number;
  readonly validUntil?: Date;
}

/**
 * Verifies a clear-signed `InRelease` and returns the signed text (never the raw file, which
 * may carry unsigned text around the signed part). Throws `REPOSITORY_UNVERIFIED` unless a
 * signature by one of `keys` is good.
 */
export async function verifyInRelease(
  text: string,
  keys: readonly Key[],
  url: string,
): Promise<string> {
  let result: VerificationResult[];
  let data: string;
  try {
    const message = await readCleartextMessage({ cleartextMessage: text });
    const verified = await verify({ message, verificationKeys: [...keys] });
    result = verified.signatures;
    data = verified.data;
  } catch (err) {
    throw unverified(url, `not a clear-signed OpenPGP message: ${(err as Error).message}`, err);
  }
  await requireGoodSignature(result, url);
  return data;
}

/** Verifies `Release` against its detached `Release.gpg` (armored or binary). */
export async function verifyDetached(
  release: Uint8Array,
  signature: Uint8Array,
  keys: readonly Key[],
  url: string,
): Promise<string> {
  let result: VerificationResult[];
  try {
    const head = Buffer.from(signature.subarray(0, 64)).toString('latin1').trimStart();
    const sig = head.startsWith('-----BEGIN PGP')
      ? await readSignature({ armoredSignature: Buffer.from(signature).toString('utf8') })
      : await readSignature({ binarySignature: signature });
    const message = await createMessage({ binary: release });
    const verified = await verify({
      message,
      signature: sig,
      verificationKeys: [...keys],
      format: 'binary',
    });
    result = verified.signatures;
  } catch (err) {
    throw unverified(url, `unreadable signature: ${(err as Error).message}`, err);
  }
  await requireGoodSignature(result, url);
  return Buffer.from(release).toString('utf8');
}

async function requireGoodSignature(
  signatures: readonly VerificationResult[],
  url: string,
): Promise<void> {
  if (signatures.length === 0) throw unverified(url, 'no signature');
  const reasons: string[] = [];
  for (const s of signatures) {
    try {
      if ((await s.verified) === true) return;
    } catch (err) {
      const key = s.keyID.toHex().toUpperCase();
      const message = (err as Error).message;
      reasons.push(
        /could not find signing key/i.test(message)
          ? `signed by key "${key}", which is not trusted`
          : `the signature by key "${key}" is bad: ${message}`,
      );
    }
  }
  throw unverified(url, reasons.join('; '));
}

/** Parses verified Release text. Throws `REPOSITORY_UNVERIFIED` when it has no SHA256 list. */
export function parseRelease(text: string, url: string): Release {
  const [paragraph] = parseDeb822(text);
  if (paragraph === undefined) throw unverified(url, 'empty Release file');
  const fields = paragraph.fields;
  const list = fields.get('sha256');
  if (list === undefined) throw unverified(url, 'the Release file has no SHA256 list');
  const files = new Map<string, ReleaseFile>();
  for (const line of list.split('\n')) {
    const [sha256, size, path] = line.trim().split(/\s+/);
    if (sha256 === undefined || size === undefined || path === undefined) continue;
    if (!/^[0-9a-f]{64}$/i.test(sha256) || !/^\d+$/.test(size)) continue;
    files.set(path, { sha256: sha256.toLowerCase(), sizeBytes: Number(size) });
  }
  const yes = (name: string) => /^yes$/i.test(fields.get(name) ?? '');
  const priority = yes('notautomatic') ? (yes('butautomaticupgrades') ? 100 : 1) : 500;
  const validText = fields.get('valid-until');
  const validUntil = validText === undefined ? undefined : new Date(validText);
  return {
    fields,
    files,
    acquireByHash: yes('acquire-by-hash'),
    priority,
    ...(validUntil !== undefined && !Number.isNaN(validUntil.getTime()) && { validUntil }),
  };
}

/**
 * Applies apt's expiry check: a Release whose `Valid-Until` has passed is refused with
 * `REPOSITORY_UNVERIFIED`, as it may be a replayed old copy.
 */
// TODO: a `Date` in the future is not refused (apt's Check-Date); only expiry is checked.
export function checkValidUntil(release: Release, url: string, now: Date): void {
  if (release.validUntil === undefined || release.validUntil >= now) return;
  throw new CopaError(
    'REPOSITORY_UNVERIFIED',
    `verifying "${redact(url)}": the Release file expired on ${release.validUntil.toISOString()}`,
    {
      hint:
        'The mirror serves an old copy; use an up-to-date mirror, or turn the Valid-Until ' +
        'check off for snapshot mirrors.',
    },
  );
}

function unverified(url: string, reason: string, cause?: unknown): CopaError {
  return new CopaError('REPOSITORY_UNVERIFIED', `verifying "${redact(url)}": ${reason}`, {
    hint:
      "Give the repository's signing key (--keyring), or check that the mirror " +
      'is not tampered with.',
    ...(cause !== undefined && { cause }),
  });
}
