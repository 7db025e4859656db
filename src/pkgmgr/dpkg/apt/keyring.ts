/**
 * OpenPGP keyrings as apt reads them: binary packet files (`.gpg`) and ASCII-armored files
 * (`.asc`), each possibly holding many keys. GnuPG's keybox format is not a keyring apt accepts.
 */
import { readKeys, type Key } from 'openpgp';

import type { PlannedKey } from './plan-sources.js';
import type { KeySource } from './types.js';

/** The keys a source trusts, and why some of its keyrings gave none. */
export interface LoadedKeys {
  readonly keys: readonly Key[];
  /** One line per keyring that could not be used (`"/x.gpg": not in the image`). */
  readonly problems: readonly string[];
}

/**
 * Reads the keys of planned keyrings, keeping only the named fingerprints where the source asks.
 * `memo` shares parsed keyrings between the sources of one run.
 */
export async function loadKeys(
  planned: readonly PlannedKey[],
  memo: Map<KeySource, Promise<readonly Key[]>> = new Map(),
): Promise<LoadedKeys> {
  const keys: Key[] = [];
  const problems: string[] = [];
  for (const { source, onlyFingerprints } of planned) {
    let parsed = memo.get(source);
    if (parsed === undefined) {
      parsed = parseKeySource(source);
      memo.set(source, parsed);
    }
    try {
      const found = await parsed;
      keys.push(
        ...(onlyFingerprints ? found.filter((k) => hasFingerprint(k, onlyFingerprints)) : found),
      );
    } catch (err) {
      problems.push(`${describe(source)}: ${(err as Error).message}`);
    }
  }
  return { keys, problems };
}

async function parseKeySource(source: KeySource): Promise<readonly Key[]> {
  switch (source.kind) {
    case 'inline':
      return readArmoredBlocks(source.armored);
    case 'missing':
      throw new Error('not in the image');
    case 'fingerprint':
      return [];
    case 'file':
      return readKeyring(source.data);
  }
}

/** Reads a keyring file's bytes, armored or binary. Throws on the keybox format. */
export async function readKeyring(data: Uint8Array): Promise<readonly Key[]> {
  if (isKeybox(data)) throw new Error('GnuPG keybox files are not keyrings apt reads');
  const head = Buffer.from(data.subarray(0, 64)).toString('latin1').trimStart();
  if (head.startsWith('-----BEGIN PGP'))
    return readArmoredBlocks(Buffer.from(data).toString('utf8'));
  return readKeys({ binaryKeys: data });
}

/** Reads every armored key block of a file: `.asc` files may hold several one after another. */
async function readArmoredBlocks(text: string): Promise<Key[]> {
  const blocks = text.match(
    /-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g,
  );
  if (blocks === null) return [...(await readKeys({ armoredKeys: text }))];
  const keys: Key[] = [];
  for (const block of blocks) keys.push(...(await readKeys({ armoredKeys: block })));
  return keys;
}

/** A keybox file has the blob type 1 header with `KBXf` at offset 8. */
function isKeybox(data: Uint8Array): boolean {
  return data.length >= 12 && Buffer.from(data.subarray(8, 12)).toString('latin1') === 'KBXf';
}

function hasFingerprint(key: Key, fingerprints: readonly string[]): boolean {
  const all = [key, ...key.getSubkeys()].map((k) => k.getFingerprint().toUpperCase());
  return all.some((f) => fingerprints.includes(f));
}

function describe(source: KeySource): string {
  return source.kind === 'fingerprint' ? `key "${source.fingerprint}"` : `keyring "${source.path}"`;
}
