/**
 * Which mirror serves a distribution's archives: the user's setting (environment or config file)
 * or, by default, the one the host's own apt sources use. No mirror is built in.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

import { CopaError } from '../../../errors.js';
import { parseDeb822Sources, parseSourcesList, type SourceEntry } from './sources.js';
import type { MirrorSettings } from './types.js';

/** An archive kind of {@link MirrorSettings}. */
export type ArchiveKind = keyof MirrorSettings;

/** Environment variables and config-file keys of each archive kind. */
export const MIRROR_SETTINGS: Readonly<Record<ArchiveKind, { env: string; key: string }>> = {
  debian: { env: 'COPA_DEBIAN_MIRROR', key: 'debianMirror' },
  debianSecurity: { env: 'COPA_DEBIAN_SECURITY_MIRROR', key: 'debianSecurityMirror' },
  ubuntu: { env: 'COPA_UBUNTU_MIRROR', key: 'ubuntuMirror' },
  ubuntuPorts: { env: 'COPA_UBUNTU_PORTS_MIRROR', key: 'ubuntuPortsMirror' },
  ubuntuSecurity: { env: 'COPA_UBUNTU_SECURITY_MIRROR', key: 'ubuntuSecurityMirror' },
};

const KINDS = Object.keys(MIRROR_SETTINGS) as ArchiveKind[];

/** The default config file, `~/.config/copa/config.json` (or under `$XDG_CONFIG_HOME`). */
export function defaultConfigFile(env: Readonly<Record<string, string | undefined>>): string {
  const base = env['XDG_CONFIG_HOME'] || path.join(os.homedir(), '.config');
  return path.join(base, 'copa', 'config.json');
}

/**
 * Reads the user's mirrors: `COPA_*_MIRROR` variables, then the config file's `*Mirror` keys
 * for what they leave unset. A missing config file is no error; a malformed one or a mirror
 * that is not an http(s) URL throws `REPOSITORY_CONFIG_INVALID`.
 */
export async function loadUserMirrors(options: {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly configFile?: string;
}): Promise<MirrorSettings> {
  const file = options.configFile ?? defaultConfigFile(options.env);
  const config = await readConfigFile(file);
  const result: Partial<Record<ArchiveKind, string>> = {};
  for (const kind of KINDS) {
    const { env, key } = MIRROR_SETTINGS[kind];
    const fromEnv = options.env[env];
    const fromFile = config[key];
    if (fromEnv !== undefined && fromEnv !== '') result[kind] = checkMirror(fromEnv, env);
    else if (typeof fromFile === 'string') result[kind] = checkMirror(fromFile, `${file}: ${key}`);
  }
  return result;
}

async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CopaError('REPOSITORY_CONFIG_INVALID', `reading "${file}": ${String(err)}`, {
      cause: err,
    });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch (err) {
    throw new CopaError('REPOSITORY_CONFIG_INVALID', `reading "${file}": invalid JSON`, {
      cause: err,
      hint: 'Write the config file as a JSON object such as {"debianMirror": "http://..."}.',
    });
  }
  throw new CopaError('REPOSITORY_CONFIG_INVALID', `reading "${file}": not a JSON object`);
}

/** Checks that a mirror is an http or https URL and drops its trailing slashes. */
export function checkMirror(value: string, setting: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CopaError(
      'REPOSITORY_CONFIG_INVALID',
      `reading mirror "${setting}": "${value}" is not an http or https URL`,
      {
        hint: 'Set the mirror to the base URL of the archive, such as http://host/debian.',
      },
    );
  }
  return value.replace(/\/+$/, '');
}

/**
 * Tells which archive a URI serves from its path: the last segment named `debian`,
 * `debian-security`, `ubuntu` or `ubuntu-ports` decides (snapshot URLs end with a date after it).
 * Ubuntu's security suites are told apart by the suite, not the URI.
 */
export function classifyArchive(uri: string, suite = ''): ArchiveKind | undefined {
  let segments: string[];
  try {
    segments = new URL(uri).pathname.split('/').filter(Boolean);
  } catch {
    return undefined;
  }
  for (let i = segments.length - 1; i >= 0; i--) {
    switch (segments[i]) {
      case 'debian':
        return 'debian';
      case 'debian-security':
        return 'debianSecurity';
      case 'ubuntu':
        return /-security$/.test(suite) ? 'ubuntuSecurity' : 'ubuntu';
      case 'ubuntu-ports':
        return 'ubuntuPorts';
    }
  }
  return undefined;
}

/** The host's archives and the keyrings its sources name for them. */
export interface HostArchives {
  readonly mirrors: MirrorSettings;
  /** Host paths of the `Signed-By` keyrings of the first source of each kind. */
  readonly keyrings: Readonly<Partial<Record<ArchiveKind, readonly string[]>>>;
}

/**
 * Reads the host's apt sources below `hostRoot` (`etc/apt/sources.list` and
 * `etc/apt/sources.list.d/*.list|*.sources`) and keeps the first URI of each archive kind.
 * Unreadable or malformed host files are skipped.
 */
export async function readHostArchives(hostRoot: string): Promise<HostArchives> {
  const entries = await readHostSources(hostRoot);
  const mirrors: Partial<Record<ArchiveKind, string>> = {};
  const keyrings: Partial<Record<ArchiveKind, string[]>> = {};
  for (const entry of entries) {
    const kind = classifyArchive(entry.uri, entry.suite);
    if (kind === undefined || mirrors[kind] !== undefined) continue;
    mirrors[kind] = entry.uri;
    const paths = (entry.signedBy ?? []).flatMap((r) => (r.kind === 'path' ? [r.path] : []));
    if (paths.length > 0) keyrings[kind] = paths;
  }
  if (mirrors.ubuntu !== undefined && mirrors.ubuntuSecurity === undefined) {
    mirrors.ubuntuSecurity = mirrors.ubuntu;
  }
  return { mirrors, keyrings };
}

async function readHostSources(hostRoot: string): Promise<SourceEntry[]> {
  const etc = path.join(hostRoot, 'etc', 'apt');
  const entries: SourceEntry[] = [];
  const read = async (file: string, parse: typeof parseSourcesList) => {
    try {
      entries.push(...parse(await fs.readFile(file, 'utf8'), file));
    } catch {
      // A host file we cannot read or parse gives no default; the user can set a mirror.
    }
  };
  await read(path.join(etc, 'sources.list'), parseSourcesList);
  const dir = path.join(etc, 'sources.list.d');
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names.sort()) {
    if (name.endsWith('.list')) await read(path.join(dir, name), parseSourcesList);
    else if (name.endsWith('.sources')) await read(path.join(dir, name), parseDeb822Sources);
  }
  return entries;
}

/** The hint of `MIRROR_UNCONFIGURED` for an archive kind. */
export function mirrorHint(kind: ArchiveKind): string {
  const { env, key } = MIRROR_SETTINGS[kind];
  const flag = kind.endsWith('ecurity') ? '--security-mirror' : '--mirror';
  return (
    `Set ${env} (or "${key}" in ~/.config/copa/config.json, or ${flag}) to the ` +
    'base URL of the archive, or add it to the host apt sources.'
  );
}
