import { statSync } from 'node:fs';
import { resolve } from 'node:path';

import { CopaError } from '../errors.js';
import type { RepositoryOverrides } from '../pkgmgr/dpkg/apt/index.js';

/** The repository flags of `copa patch` as commander leaves them. */
export interface RepositoryFlags {
  readonly mirror?: string;
  readonly securityMirror?: string;
  /** Every `--extra-suite` value. */
  readonly extraSuite?: readonly string[];
  /** Every `--keyring` value. */
  readonly keyring?: readonly string[];
}

const suitePattern = /^[A-Za-z0-9][A-Za-z0-9.+~/_-]*$/;

/**
 * Checks `--mirror`, `--security-mirror`, `--extra-suite` and `--keyring` and returns them as
 * the apt layer's overrides; keyring paths become absolute. Throws a `USAGE` CopaError naming
 * the flag: a mirror that is not an http(s) URL, an extra suite that is neither a suite name nor
 * a `deb ...` line, a keyring that is not a readable file.
 */
export function parseRepositoryFlags(flags: RepositoryFlags): RepositoryOverrides {
  const mirror = checkMirror('--mirror', flags.mirror);
  const securityMirror = checkMirror('--security-mirror', flags.securityMirror);
  const extraSuites = (flags.extraSuite ?? []).map(checkExtraSuite);
  const keyrings = (flags.keyring ?? []).map(checkKeyring);
  return {
    ...(mirror === undefined ? {} : { mirror }),
    ...(securityMirror === undefined ? {} : { securityMirror }),
    ...(extraSuites.length === 0 ? {} : { extraSuites }),
    ...(keyrings.length === 0 ? {} : { keyrings }),
  };
}

function usage(message: string, hint: string): CopaError {
  return new CopaError('USAGE', message, { hint });
}

function checkMirror(flag: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const value = text.trim();
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw usage(
      `reading ${flag}: "${text}" is not an http(s) URL`,
      `Pass ${flag} http://HOST/PATH or https://HOST/PATH, the root of a Debian or Ubuntu archive.`,
    );
  }
  return value;
}

function checkExtraSuite(text: string): string {
  const value = text.trim();
  if (/^deb\s/.test(value)) {
    const uri = value.replace(/^deb\s+(\[[^\]]*\]\s*)?/, '').split(/\s+/);
    if (uri.length >= 2 && /^https?:\/\//.test(uri[0] as string)) return value;
  } else if (suitePattern.test(value)) {
    return value;
  }
  throw usage(
    `reading --extra-suite: "${text}" is neither a suite name nor a "deb URI suite ..." line`,
    'Pass a suite of the main archive (bookworm-backports) or a whole line, ' +
      'like --extra-suite "deb [signed-by=/path/key.gpg] https://HOST/debian bookworm main".',
  );
}

function checkKeyring(text: string): string {
  const path = resolve(text);
  const isFile = statSync(path, { throwIfNoEntry: false })?.isFile() === true;
  if (!isFile) {
    throw usage(
      `reading --keyring: "${text}" is not a file`,
      'Pass the path of an OpenPGP keyring or key file (binary or armored) on this host.',
    );
  }
  return path;
}
