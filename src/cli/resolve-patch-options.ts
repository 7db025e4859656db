import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { CopaError } from '../errors.js';
import { parseReference } from '../reference/index.js';
import type { Platform } from '../image/types.js';
import type { Compression } from '../layer/types.js';
import type { ImageLoader, PatchCommandOptions, ProgressMode } from './options.js';
import { formatPlatform, tryParsePlatform } from './parse-platform.js';
import { formatDuration, maxDurationMs, tryParseDuration } from './parse-duration.js';
import { parseRepositoryFlags, type RepositoryFlags } from './parse-repository-flags.js';

/** The flags of `copa patch` as commander leaves them: strings and booleans, unchecked. */
export interface PatchFlags extends RepositoryFlags {
  readonly image?: string;
  readonly report?: string;
  readonly tag?: string;
  readonly tagSuffix?: string;
  readonly push?: boolean;
  readonly ignoreErrors?: boolean;
  /** Every `--platform` value, each possibly a comma-separated list. */
  readonly platform?: readonly string[];
  readonly scanner?: string;
  readonly format?: string;
  readonly output?: string;
  readonly timeout?: string;
  readonly workingFolder?: string;
  readonly loader?: string;
  readonly ociDir?: string;
  readonly progress?: string;
  readonly compression?: string;
  readonly forceCompression?: boolean;
  readonly exitOnEol?: boolean;
  readonly eolApiUrl?: string;
  readonly config?: string;
  readonly addr?: string;
  readonly cacert?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly pkgTypes?: string;
  readonly libraryPatchLevel?: string;
  readonly toolchainPatchLevel?: string | boolean;
  readonly goVcsUrl?: string;
  readonly debug?: boolean;
}

/** What {@link resolvePatchOptions} returns: the patch options and how to show progress. */
export interface ResolvedPatch {
  readonly options: PatchCommandOptions;
  readonly progress: ProgressMode;
}

/** Copa's defaults, shown in the help too. */
export const patchDefaults = Object.freeze({
  tagSuffix: 'patched',
  scanner: 'trivy',
  format: 'openvex',
  timeout: '5m',
  progress: 'auto',
});

const progressModes: readonly ProgressMode[] = ['auto', 'plain', 'tty', 'quiet'];
const loaders: readonly ImageLoader[] = ['docker', 'podman'];
const compressions: readonly Compression[] = ['uncompressed', 'gzip', 'zstd'];
const scannerPattern = /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const unsupportedHint = 'Remove the flag: copa patches OS packages without it.';

/**
 * Checks the flags of `copa patch` and fills in Copa's defaults. Throws a `USAGE` CopaError that
 * names the flag and the accepted values for the first bad one. Flags Copa has that make no
 * difference here (BuildKit connection) are accepted with a warning through `warn`; flags for
 * features copa does not have yet are usage errors.
 */
export function resolvePatchOptions(
  flags: PatchFlags,
  context: { readonly warn: (message: string) => void },
): ResolvedPatch {
  const { warn } = context;
  rejectUnsupported(flags);
  warnIgnored(flags, warn);

  const image = requireImage(flags);
  const tag = checkTag(flags.tag, image);
  const push = flags.push === true;
  const report = nonEmpty(flags.report);

  const options: PatchCommandOptions = {
    image,
    report,
    tag,
    tagSuffix: checkTagSuffix(flags.tagSuffix),
    push,
    ignoreErrors: flags.ignoreErrors === true,
    platforms: parsePlatforms(flags.platform ?? []),
    scanner: checkScanner(flags.scanner ?? patchDefaults.scanner),
    format: oneOf('--format', flags.format ?? patchDefaults.format, ['openvex'] as const),
    output: checkOutputFile(nonEmpty(flags.output)),
    timeoutMs: parseTimeout(flags.timeout ?? patchDefaults.timeout),
    workingFolder: checkWorkingFolder(nonEmpty(flags.workingFolder)),
    loader: optionalOneOf('--loader', flags.loader, loaders),
    ociDir: nonEmpty(flags.ociDir),
    compression: parseCompression(flags.compression),
    forceCompression: flags.forceCompression === true,
    repositories: parseRepositoryFlags(flags),
    debug: flags.debug === true,
  };
  return { options, progress: parseProgress(flags.progress, warn) };
}

/** `--output` must go into a folder that exists and can be written, checked before any work. */
function checkOutputFile(output: string | undefined): string | undefined {
  if (output === undefined) return undefined;
  if (isDirectory(output)) {
    throw usageError(`checking --output "${output}": it is a folder`, 'Name a file to write.');
  }
  const folder = dirname(resolve(output));
  if (!isWritableDirectory(folder)) {
    throw usageError(
      `checking --output "${output}": the folder "${folder}" does not exist or cannot be written`,
      'Create the folder first, or choose another path.',
    );
  }
  return output;
}

/** `--working-folder` must be a folder that exists and can be written. */
function checkWorkingFolder(folder: string | undefined): string | undefined {
  if (folder === undefined || isWritableDirectory(folder)) return folder;
  throw usageError(
    `checking --working-folder "${folder}": it does not exist, is not a folder or cannot be written`,
    "Create it first, or leave the flag out to use the system's temporary folder.",
  );
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function isWritableDirectory(path: string): boolean {
  if (!isDirectory(path)) return false;
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A `USAGE` error about one flag. */
export function usageError(message: string, hint: string): CopaError {
  return new CopaError('USAGE', message, { hint });
}

function rejectUnsupported(flags: PatchFlags): void {
  if (flags.config !== undefined) {
    throw usageError(
      'reading --config: bulk patching is not supported by copa yet',
      'Run "copa patch -i <image> ..." once per image instead.',
    );
  }
  if (flags.toolchainPatchLevel !== undefined) {
    throw usageError('reading --toolchain-patch-level: not supported by copa yet', unsupportedHint);
  }
  // TODO: copa has no end-of-life check; --exit-on-eol is refused so that a script relying on it
  // does not pass silently, and --eol-api-url is ignored with a warning.
  if (flags.exitOnEol === true) {
    throw usageError(
      'reading --exit-on-eol: the end-of-life check is not supported by copa yet',
      'Remove the flag, and check the distribution release of the image separately.',
    );
  }
  if (flags.goVcsUrl !== undefined) {
    throw usageError('reading --go-vcs-url: not supported by copa yet', unsupportedHint);
  }
  checkPackageTypes(flags.pkgTypes);
  const level = oneOf('--library-patch-level', flags.libraryPatchLevel ?? 'patch', [
    'patch',
    'minor',
    'major',
  ] as const);
  if (level !== 'patch') {
    throw usageError(
      `reading --library-patch-level: "${level}" needs library patching, ` +
        'which is not supported by copa yet',
      unsupportedHint,
    );
  }
}

function checkPackageTypes(text: string | undefined): void {
  if (text === undefined) return;
  for (const type of text.split(',').map((t) => t.trim())) {
    const checked = oneOf('--pkg-types', type, ['os', 'library'] as const);
    if (checked === 'library') {
      throw usageError(
        'reading --pkg-types: library (language package) patching is not supported by copa yet',
        'Pass --pkg-types os, or leave the flag out.',
      );
    }
  }
}

function warnIgnored(flags: PatchFlags, warn: (message: string) => void): void {
  if (flags.eolApiUrl !== undefined) {
    checkUrl('--eol-api-url', flags.eolApiUrl);
    warn('ignoring --eol-api-url: copa has no end-of-life check yet');
  }
  const ignored = (['addr', 'cacert', 'cert', 'key'] as const).filter(
    (f) => flags[f] !== undefined,
  );
  for (const flag of ignored) {
    warn(`ignoring --${flag}: copa patches images itself and does not connect to BuildKit`);
  }
}

function requireImage(flags: PatchFlags): string {
  const image = nonEmpty(flags.image)?.trim();
  if (image === undefined) {
    throw usageError(
      'reading flags: --image is required',
      'Pass the image to patch, for example -i docker.io/library/nginx:1.25.',
    );
  }
  if (/\s/.test(image))
    throw usageError(
      `reading --image: "${image}" contains white space`,
      'Pass one image reference.',
    );
  if (!image.startsWith('oci:')) checkReference('--image', image);
  return image;
}

/** Throws a `USAGE` error naming `flag` when `reference` is not a valid registry reference. */
function checkReference(flag: string, reference: string): void {
  const transport = /^([a-z][a-z0-9+.-]*):\/\//.exec(reference);
  if (transport !== null) {
    throw usageError(
      `reading ${flag}: "${reference}" starts with the transport prefix "${transport[0]}"`,
      'Drop the prefix: copa takes host/repo:tag (a registry) or oci:DIR:TAG (an OCI layout).',
    );
  }
  try {
    parseReference(reference);
  } catch (err) {
    if (!(err instanceof CopaError) || err.code !== 'REFERENCE_INVALID') throw err;
    throw new CopaError('USAGE', `reading ${flag}: ${err.message}`, {
      ...(err.hint === undefined ? {} : { hint: err.hint }),
      cause: err,
    });
  }
}

/** Whether the repository part of a reference (before any digest) ends in `:<tag>`. */
function hasTag(reference: string): boolean {
  const name = reference.split('@')[0] ?? '';
  return name.slice(name.lastIndexOf('/') + 1).includes(':');
}

function checkTag(text: string | undefined, image: string): string | undefined {
  const tag = nonEmpty(text);
  if (tag === undefined) {
    // An OCI layout (`oci:DIR[:TAG]`) may hold a single untagged entry; the engine decides.
    if (!image.startsWith('oci:') && !hasTag(image)) {
      throw usageError(
        `reading --image: no tag found in image reference "${image}"`,
        'Pass --tag with the tag (or full reference) the patched image should get.',
      );
    }
    return undefined;
  }
  if (tag.includes(':') || tag.includes('@')) {
    if (!hasTag(tag)) {
      throw usageError(`reading --tag: no tag found in reference "${tag}"`, 'End it with :<tag>.');
    }
    checkReference('--tag', tag);
    return tag;
  }
  if (!tagPattern.test(tag)) {
    throw usageError(
      `reading --tag: "${tag}" is not a valid tag`,
      'A tag has up to 128 letters, digits, "_", "." and "-", or pass a full reference repo:tag.',
    );
  }
  return tag;
}

function checkTagSuffix(text: string | undefined): string {
  const suffix = nonEmpty(text) ?? patchDefaults.tagSuffix;
  if (!/^[\w.-]+$/.test(suffix)) {
    throw usageError(
      `reading --tag-suffix: "${suffix}" cannot be part of a tag`,
      'Use letters, digits, "_", "." and "-".',
    );
  }
  return suffix;
}

function parsePlatforms(values: readonly string[]): Platform[] {
  const platforms = new Map<string, Platform>();
  const blank = values.find((v) => v.split(',').some((t) => t.trim() === ''));
  if (blank !== undefined) {
    throw usageError(
      `reading --platform: "${blank}" has an empty platform`,
      'Pass os/arch[/variant] without empty list items, for example --platform linux/amd64.',
    );
  }
  for (const text of values.flatMap((v) => v.split(',')).map((t) => t.trim())) {
    const parsed = tryParsePlatform(text);
    if (typeof parsed === 'string') {
      throw usageError(
        `reading --platform: "${text}": ${parsed}`,
        'Pass os/arch[/variant], for example --platform linux/amd64,linux/arm/v7.',
      );
    }
    platforms.set(formatPlatform(parsed), parsed);
  }
  return [...platforms.values()];
}

function checkScanner(scanner: string): string {
  if (!scannerPattern.test(scanner)) {
    throw usageError(
      `reading --scanner: "${scanner}" is not a scanner name`,
      'Pass trivy, grype, native, or the name of a plugin (copa-<name> on PATH).',
    );
  }
  return scanner;
}

function parseTimeout(text: string): number {
  const ms = tryParseDuration(text.trim());
  if (ms === undefined || ms <= 0) {
    throw usageError(
      `reading --timeout: "${text}" is not a positive duration`,
      'Pass a duration such as 90s, 5m, 1h30m or 300ms.',
    );
  }
  if (ms < 1) {
    throw usageError(
      `reading --timeout: "${text}" is shorter than 1ms`,
      'Pass a duration of at least 1ms, such as 90s, 5m or 300ms.',
    );
  }
  if (ms > maxDurationMs) {
    throw usageError(
      `reading --timeout: "${text}" is too long`,
      `Pass a duration of at most ${formatDuration(maxDurationMs)}.`,
    );
  }
  return ms;
}

function parseCompression(text: string | undefined): Compression {
  if (text === 'estargz') {
    throw usageError(
      'reading --compression: estargz is not supported by copa yet',
      `Pass one of ${compressions.join(', ')}.`,
    );
  }
  // Gzip everywhere by default: Copa leaves a layout's new layer uncompressed, but a gzip layer
  // is what registries and engines take without conversion, and a layout is often pushed later.
  return optionalOneOf('--compression', text, compressions) ?? 'gzip';
}

function parseProgress(text: string | undefined, warn: (message: string) => void): ProgressMode {
  if (text === 'rawjson') {
    warn('--progress rawjson is BuildKit output, which copa does not have; using plain');
    return 'plain';
  }
  return oneOf('--progress', text ?? patchDefaults.progress, progressModes);
}

function checkUrl(flag: string, text: string | undefined): string | undefined {
  const value = nonEmpty(text);
  if (value === undefined) return undefined;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw usageError(
      `reading ${flag}: "${value}" is not an http(s) URL`,
      'Pass an http:// or https:// URL.',
    );
  }
  return value;
}

function oneOf<T extends string>(flag: string, value: string, accepted: readonly T[]): T {
  if ((accepted as readonly string[]).includes(value)) return value as T;
  throw usageError(
    `reading ${flag}: "${value}" is not one of ${accepted.join(', ')}`,
    `Pass ${flag} ${accepted.join('|')}.`,
  );
}

function optionalOneOf<T extends string>(
  flag: string,
  value: string | undefined,
  accepted: readonly T[],
): T | undefined {
  const given = nonEmpty(value);
  return given === undefined ? undefined : oneOf(flag, given, accepted);
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text;
}
