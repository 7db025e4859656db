/**
 * Turns the image's apt configuration and the user's settings into the list of sources to open,
 * each with the keys that may sign it.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

import { CopaError } from '../../../errors.js';
import type { Logger } from '../../../log.js';
import {
  checkMirror,
  classifyArchive,
  mirrorHint,
  type ArchiveKind,
  type HostArchives,
} from './mirrors.js';
import { parseSourcesList } from './sources.js';
import type {
  AptConfig,
  AptSource,
  KeySource,
  MirrorSettings,
  RepositoryOverrides,
} from './types.js';

/** A source ready to open: one suite of one URI and the keys trusted for it. */
export interface PlannedSource {
  readonly uri: string;
  readonly suite: string;
  readonly components: readonly string[];
  readonly architectures?: readonly string[];
  readonly keys: readonly PlannedKey[];
  readonly checkValidUntil?: boolean;
  readonly from: string;
}

/** A keyring trusted for a source, limited to some keys when `Signed-By` names fingerprints. */
export interface PlannedKey {
  readonly source: KeySource;
  /** Upper-case fingerprints of the only keys (primary or subkey) to trust from the source. */
  readonly onlyFingerprints?: readonly string[];
}

export interface PlanOptions {
  readonly arch: string;
  /** Mirrors the user set (environment, config file). */
  readonly user: MirrorSettings;
  readonly host: HostArchives;
  readonly hostRoot: string;
  readonly overrides: RepositoryOverrides;
  readonly logger: Logger;
}

const VERSION_CODENAMES: Readonly<Record<string, string>> = {
  '9': 'stretch',
  '10': 'buster',
  '11': 'bullseye',
  '12': 'bookworm',
  '13': 'trixie',
  '14': 'forky',
};

const EXTRA_LINE_HINT =
  'Add the repository with --extra-suite as a full "deb URI suite components" line.';

const DEFAULT_KEYRINGS: Readonly<Record<string, string>> = {
  debian: 'usr/share/keyrings/debian-archive-keyring.gpg',
  ubuntu: 'usr/share/keyrings/ubuntu-archive-keyring.gpg',
};

/**
 * Plans the sources: the image's, with user mirrors replacing the distribution's archives, or
 * the distribution's default suites for an image without sources, then the extra suites.
 * Throws `MIRROR_UNCONFIGURED` when a default source has no mirror, `OS_UNSUPPORTED` for an
 * image without sources of an unknown distribution.
 */
export async function planSources(
  config: AptConfig,
  options: PlanOptions,
): Promise<PlannedSource[]> {
  const distro = config.osRelease.id.toLowerCase();
  const userKeys = asPlanned(await readHostKeyrings(options.overrides.keyrings ?? [], ''));
  const mirrors = chosenMirrors(distro, options);
  const planned: PlannedSource[] = [];
  if (config.sources.length > 0) {
    for (const source of config.sources) {
      planned.push(await planImageSource(source, { config, mirrors, userKeys, options, distro }));
    }
  } else {
    planned.push(...(await planDefaultSources(config, { mirrors, userKeys, options, distro })));
  }
  for (const extra of options.overrides.extraSuites ?? []) {
    planned.push(await planExtraSuite(extra, planned, { userKeys, options, distro }));
  }
  return planned;
}

interface ChosenMirrors {
  /** The mirror replacing the distribution's main archive, by the user, if any. */
  readonly main?: string;
  readonly security?: string;
  readonly mainKind: ArchiveKind;
  readonly securityKind: ArchiveKind;
}

function chosenMirrors(distro: string, options: PlanOptions): ChosenMirrors {
  const { overrides, user, arch } = options;
  const override = (value: string | undefined, name: string) =>
    value === undefined ? undefined : checkMirror(value, name);
  if (distro === 'ubuntu') {
    const mainKind: ArchiveKind = arch === 'amd64' || arch === 'i386' ? 'ubuntu' : 'ubuntuPorts';
    const main = override(overrides.mirror, 'mirror') ?? user[mainKind];
    const security =
      override(overrides.securityMirror, 'security mirror') ??
      (mainKind === 'ubuntu' ? user.ubuntuSecurity : undefined) ??
      main;
    return {
      main,
      security,
      mainKind,
      securityKind: mainKind === 'ubuntu' ? 'ubuntuSecurity' : mainKind,
    };
  }
  return {
    main: override(overrides.mirror, 'mirror') ?? user.debian,
    security: override(overrides.securityMirror, 'security mirror') ?? user.debianSecurity,
    mainKind: 'debian',
    securityKind: 'debianSecurity',
  };
}

interface ImageContext {
  readonly config: AptConfig;
  readonly mirrors: ChosenMirrors;
  readonly userKeys: readonly PlannedKey[];
  readonly options: PlanOptions;
  readonly distro: string;
}

async function planImageSource(source: AptSource, ctx: ImageContext): Promise<PlannedSource> {
  const found = classifyArchive(source.uri, source.suite);
  const kind = found !== undefined && found.startsWith(ctx.distro) ? found : undefined;
  const security =
    kind === 'debianSecurity' || kind === 'ubuntuSecurity' || /-security$/.test(source.suite);
  const replacement =
    kind === undefined ? undefined : security ? ctx.mirrors.security : ctx.mirrors.main;
  if (replacement !== undefined && replacement !== source.uri) {
    ctx.options.logger.debug(
      `replacing "${source.uri}" of "${source.from}" with mirror "${replacement}"`,
    );
  }
  let keys: PlannedKey[];
  if (source.signedBy !== undefined) {
    keys = resolveFingerprints(source.signedBy, ctx.config.trustedKeys);
  } else if (ctx.config.trustedKeys.length > 0) {
    keys = ctx.config.trustedKeys.map((k) => ({ source: k }));
  } else {
    // An image that keeps no keys was built with them elsewhere; the host's archive keyring of
    // the same distribution is the closest trustworthy stand-in.
    keys = await hostDefaultKeys(ctx.options, kind, ctx.distro);
    if (keys.length > 0) {
      ctx.options.logger.debug(
        `using host keyrings for "${source.from}": the image has no trusted keys`,
      );
    }
  }
  return {
    uri: replacement ?? source.uri,
    suite: source.suite,
    components: source.components,
    ...(source.architectures && { architectures: source.architectures }),
    keys: [...keys, ...ctx.userKeys],
    ...(source.checkValidUntil !== undefined && { checkValidUntil: source.checkValidUntil }),
    from: source.from,
  };
}

/** Replaces `Signed-By` fingerprints with the trusted keyrings, limited to those keys. */
function resolveFingerprints(
  signedBy: readonly KeySource[],
  trusted: readonly KeySource[],
): PlannedKey[] {
  const fingerprints = signedBy.flatMap((k) => (k.kind === 'fingerprint' ? [k.fingerprint] : []));
  const direct = signedBy.filter((k) => k.kind !== 'fingerprint').map((k) => ({ source: k }));
  if (fingerprints.length === 0) return direct;
  return [...direct, ...trusted.map((k) => ({ source: k, onlyFingerprints: fingerprints }))];
}

interface DefaultContext {
  readonly mirrors: ChosenMirrors;
  readonly userKeys: readonly PlannedKey[];
  readonly options: PlanOptions;
  readonly distro: string;
}

async function planDefaultSources(
  config: AptConfig,
  ctx: DefaultContext,
): Promise<PlannedSource[]> {
  const { distro } = ctx;
  if (distro !== 'debian' && distro !== 'ubuntu') {
    throw new CopaError(
      'OS_UNSUPPORTED',
      `choosing apt sources for "${distro}": the image has no sources and copa knows no ` +
        'default for this distribution',
      {
        hint: EXTRA_LINE_HINT,
      },
    );
  }
  const codename = codenameOf(config);
  const host = ctx.options.host;
  const main = ctx.mirrors.main ?? host.mirrors[ctx.mirrors.mainKind];
  const security =
    ctx.mirrors.security ??
    host.mirrors[ctx.mirrors.securityKind] ??
    (distro === 'ubuntu' ? main : undefined);
  if (main === undefined) throw unconfigured(ctx.mirrors.mainKind, codename);
  const components =
    distro === 'ubuntu' ? ['main', 'restricted', 'universe', 'multiverse'] : ['main'];
  const mainKeys = await defaultKeys(ctx, ctx.mirrors.mainKind);
  const from = `default sources of ${distro} "${codename}"`;
  const planned: PlannedSource[] = [
    { uri: main, suite: codename, components, keys: mainKeys, from },
  ];
  if (codename === 'sid' || codename === 'unstable') return planned;
  planned.push({ uri: main, suite: `${codename}-updates`, components, keys: mainKeys, from });
  if (security === undefined) throw unconfigured(ctx.mirrors.securityKind, codename);
  const legacy = distro === 'debian' && ['stretch', 'buster'].includes(codename);
  planned.push({
    uri: security,
    suite: legacy ? `${codename}/updates` : `${codename}-security`,
    components,
    keys: await defaultKeys(ctx, ctx.mirrors.securityKind),
    from,
  });
  return planned;
}

async function defaultKeys(ctx: DefaultContext, kind: ArchiveKind): Promise<PlannedKey[]> {
  return [...(await hostDefaultKeys(ctx.options, kind, ctx.distro)), ...ctx.userKeys];
}

/** The host keyrings for an archive: those its own sources name, else the distribution's. */
async function hostDefaultKeys(
  options: PlanOptions,
  kind: ArchiveKind | undefined,
  distro: string,
): Promise<PlannedKey[]> {
  const named = kind === undefined ? undefined : options.host.keyrings[kind];
  const fallback = DEFAULT_KEYRINGS[distro];
  const paths = named ?? (fallback === undefined ? [] : [`/${fallback}`]);
  return asPlanned(await readHostKeyrings(paths, options.hostRoot, { optional: true }));
}

function asPlanned(keys: readonly KeySource[]): PlannedKey[] {
  return keys.map((source) => ({ source }));
}

/** The release codename: `VERSION_CODENAME`, else from Debian's `VERSION_ID`. */
export function codenameOf(config: AptConfig): string {
  const { versionCodename, versionId, id } = config.osRelease;
  if (versionCodename !== undefined && versionCodename !== '') return versionCodename;
  const major = (versionId ?? '').split('.')[0] ?? '';
  const mapped = id === 'debian' ? VERSION_CODENAMES[major] : undefined;
  if (mapped !== undefined) return mapped;
  throw new CopaError(
    'OS_UNSUPPORTED',
    `choosing apt sources for "${id}" "${versionId ?? ''}": os-release names no release codename`,
    {
      hint: EXTRA_LINE_HINT,
    },
  );
}

function unconfigured(kind: ArchiveKind, codename: string): CopaError {
  return new CopaError(
    'MIRROR_UNCONFIGURED',
    `choosing a mirror for "${codename}": no ${kind} mirror is configured and the host ` +
      'apt sources name none',
    {
      hint: mirrorHint(kind),
    },
  );
}

interface ExtraContext {
  readonly userKeys: readonly PlannedKey[];
  readonly options: PlanOptions;
  readonly distro: string;
}

async function planExtraSuite(
  extra: string,
  planned: readonly PlannedSource[],
  ctx: ExtraContext,
): Promise<PlannedSource> {
  const from = `extra suite "${extra}"`;
  if (/^deb\s/.test(extra.trim())) {
    const [entry] = parseSourcesList(extra, from);
    if (entry === undefined) throw invalidExtra(extra, 'no entry');
    const paths = (entry.signedBy ?? []).flatMap((r) => (r.kind === 'path' ? [r.path] : []));
    const keys = asPlanned(await readHostKeyrings(paths, ''));
    const base =
      keys.length > 0
        ? keys
        : await hostDefaultKeys(ctx.options, classifyArchive(entry.uri), ctx.distro);
    const { uri, suite, components, architectures, checkValidUntil } = entry;
    return {
      uri,
      suite,
      components,
      ...(architectures && { architectures }),
      ...(checkValidUntil !== undefined && { checkValidUntil }),
      keys: [...base, ...ctx.userKeys],
      from,
    };
  }
  const main = planned.find((p) => {
    const kind = classifyArchive(p.uri, p.suite);
    return kind === 'debian' || kind === 'ubuntu' || kind === 'ubuntuPorts';
  });
  if (main === undefined)
    throw invalidExtra(extra, "no source of the distribution's main archive to add it to");
  return { uri: main.uri, suite: extra.trim(), components: main.components, keys: main.keys, from };
}

function invalidExtra(extra: string, reason: string): CopaError {
  return new CopaError('REPOSITORY_CONFIG_INVALID', `adding extra suite "${extra}": ${reason}`, {
    hint:
      'Give a suite name, or a whole line such as ' +
      '"deb [signed-by=/path/key.gpg] http://host/debian suite main".',
  });
}

/**
 * Reads keyring files of the host (below `root` when given). Missing files throw
 * `REPOSITORY_CONFIG_INVALID` unless `optional`.
 */
export async function readHostKeyrings(
  paths: readonly string[],
  root: string,
  options: { readonly optional?: boolean } = {},
): Promise<KeySource[]> {
  const keys: KeySource[] = [];
  for (const p of paths) {
    const file = root === '' ? p : path.join(root, p);
    try {
      keys.push({ kind: 'file', path: p, data: await fs.readFile(file) });
    } catch (err) {
      if (options.optional === true) continue;
      throw new CopaError(
        'REPOSITORY_CONFIG_INVALID',
        `reading keyring "${file}": ${(err as Error).message}`,
        {
          cause: err,
          hint: 'Give the path of an OpenPGP keyring file (.gpg or .asc) that exists on this host.',
        },
      );
    }
  }
  return keys;
}
