/**
 * Opening one planned source: its verified Release file, then the `Packages` index of each
 * component and architecture, fetched into the cache by hash and parsed once per process.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

import type { Key } from 'openpgp';

import { CopaError, isCopaError } from '../../../errors.js';
import type { Logger } from '../../../log.js';
import { redact, type HttpClient } from './http-client.js';
import type { LoadedKeys } from './keyring.js';
import { readPackagesIndex, type IndexCompression } from './packages-index.js';
import type { PlannedSource } from './plan-sources.js';
import { fetchReleaseFiles } from './release-cache.js';
import {
  checkValidUntil,
  parseRelease,
  verifyDetached,
  verifyInRelease,
  type Release,
  type ReleaseFile,
} from './release.js';
import type { IndexCacheLike, PackageRecord, RepositoryOrigin } from './types.js';

export interface SourceContext {
  readonly http: HttpClient;
  readonly cacheDir: string;
  readonly architectures: readonly string[];
  readonly releaseMaxAgeMs: number;
  /** The run's setting; a source's own `check-valid-until` wins. */
  readonly checkValidUntil: boolean;
  readonly indexCache: IndexCacheLike;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

/** What one source contributes. */
export interface OpenedSource {
  readonly origins: readonly RepositoryOrigin[];
  readonly records: readonly PackageRecord[];
}

/** Version of the parsed-index files; change it when their format or the kept fields change. */
const PARSED_FORMAT = 'v2';

const INDEX_NAMES: readonly [string, IndexCompression][] = [
  ['Packages.xz', 'xz'],
  ['Packages.gz', 'gz'],
  ['Packages', 'none'],
];

/** The suite directory of a source, ending in `/`. */
export function distUrl(source: PlannedSource): string {
  if (source.suite.endsWith('/')) return `${source.uri}/${source.suite}`.replace(/\/\.\/$/, '/');
  return `${source.uri}/dists/${source.suite}/`;
}

/**
 * Opens a source with its loaded keys. Throws `REPOSITORY_UNVERIFIED` without a good signature
 * from them, `REPOSITORY_HASH_MISMATCH` when an index differs from the Release file.
 */
export async function openSource(
  source: PlannedSource,
  keys: LoadedKeys,
  ctx: SourceContext,
): Promise<OpenedSource> {
  const dist = distUrl(source);
  if (keys.keys.length === 0) {
    const why = keys.problems.length > 0 ? ` (${keys.problems.join('; ')})` : '';
    throw new CopaError(
      'REPOSITORY_UNVERIFIED',
      `verifying "${redact(dist)}" of "${source.from}": no trusted keys${why}`,
      {
        hint: "Give the repository's signing key with --keyring (an OpenPGP .gpg or .asc file).",
      },
    );
  }
  const release = await verifiedRelease(dist, keys.keys, ctx);
  warnOnOtherSuite(source, release, dist, ctx.logger);
  const check = source.checkValidUntil ?? (isSnapshot(source.uri) ? false : ctx.checkValidUntil);
  if (check) checkValidUntil(release, `${dist}InRelease`, new Date());
  const archs = ctx.architectures.filter((a) => source.architectures?.includes(a) ?? true);
  const origins: RepositoryOrigin[] = [];
  const records: PackageRecord[] = [];
  const components = source.components.length === 0 ? [''] : source.components;
  for (const component of components) {
    const origin = originOf(source, component, release);
    origins.push(origin);
    for (const arch of archs) {
      records.push(...(await openIndex({ dist, release, component, arch, origin }, ctx)));
    }
  }
  return { origins, records };
}

/**
 * apt warns when a Release names neither the suite nor the codename the sources ask for: a
 * validly signed Release of another suite could be served in its place.
 */
function warnOnOtherSuite(
  source: PlannedSource,
  release: Release,
  dist: string,
  logger: Logger,
): void {
  if (source.suite.endsWith('/')) return;
  const suite = release.fields.get('suite');
  const codename = release.fields.get('codename');
  if (suite === undefined && codename === undefined) return;
  if (suite === source.suite || codename === source.suite) return;
  logger.warn(
    `reading "${redact(dist)}": the Release file is for suite "${suite ?? ''}" ` +
      `codename "${codename ?? ''}", not "${source.suite}"`,
  );
}

/** Snapshot archives (a path segment like `20250520T000000Z`) serve expired Release files. */
function isSnapshot(uri: string): boolean {
  return /\/\d{8}T\d{6}Z(\/|$)/.test(uri);
}

async function verifiedRelease(
  dist: string,
  keys: readonly Key[],
  ctx: SourceContext,
): Promise<Release> {
  const options = {
    http: ctx.http,
    cacheDir: ctx.cacheDir,
    maxAgeMs: ctx.releaseMaxAgeMs,
    logger: ctx.logger,
    signal: ctx.signal,
  };
  let files = await fetchReleaseFiles(dist, options);
  try {
    return await verifyFiles(files, dist, keys);
  } catch (err) {
    if (!files.fromCache || !isCopaError(err, 'REPOSITORY_UNVERIFIED')) throw err;
    ctx.logger.debug(`fetching "${redact(dist)}" again: the cached Release failed verification`);
    files = await fetchReleaseFiles(dist, { ...options, refresh: true });
    return verifyFiles(files, dist, keys);
  }
}

async function verifyFiles(
  files: Awaited<ReturnType<typeof fetchReleaseFiles>>,
  dist: string,
  keys: readonly Key[],
): Promise<Release> {
  if (files.kind === 'inrelease') {
    const url = `${dist}InRelease`;
    return parseRelease(await verifyInRelease(files.inRelease.toString('utf8'), keys, url), url);
  }
  const url = `${dist}Release`;
  if (files.signature === undefined) {
    throw new CopaError(
      'REPOSITORY_UNVERIFIED',
      `verifying "${redact(url)}": the repository is not signed (no InRelease or Release.gpg)`,
      {
        hint: 'copa only uses signed repositories: sign it, or use a signed mirror.',
      },
    );
  }
  return parseRelease(await verifyDetached(files.release, files.signature, keys, url), url);
}

function originOf(source: PlannedSource, component: string, release: Release): RepositoryOrigin {
  const f = release.fields;
  return {
    uri: source.uri,
    suite: source.suite,
    component,
    ...(f.has('origin') && { origin: f.get('origin') }),
    ...(f.has('label') && { label: f.get('label') }),
    ...(f.has('codename') && { codename: f.get('codename') }),
    priority: release.priority,
  };
}

interface IndexTarget {
  readonly dist: string;
  readonly release: Release;
  readonly component: string;
  readonly arch: string;
  readonly origin: RepositoryOrigin;
}

async function openIndex(
  target: IndexTarget,
  ctx: SourceContext,
): Promise<readonly PackageRecord[]> {
  const found = findIndex(target);
  if (found === undefined) {
    const listed = (target.release.fields.get('architectures') ?? '').split(/\s+/);
    const line =
      `no Packages index for "${target.arch}" in "${redact(target.dist)}" ` +
      `component "${target.component}"`;
    if (listed.includes(target.arch)) ctx.logger.warn(line);
    else ctx.logger.debug(line);
    return [];
  }
  const { uri, suite, component } = target.origin;
  const key = [found.file.sha256, uri, suite, component].join(' ');
  let records = ctx.indexCache.get(key);
  if (records === undefined) {
    records = loadIndex({ ...found, target }, ctx);
    ctx.indexCache.set(key, records);
    // A failed load is not kept: the next open tries again.
    records.catch(() => ctx.indexCache.delete(key));
  }
  return records;
}

function findIndex(
  target: IndexTarget,
): { relPath: string; file: ReleaseFile; compression: IndexCompression } | undefined {
  const dirs = target.component === '' ? [''] : [`${target.component}/binary-${target.arch}/`];
  // debian-security once listed components as "updates/main"; its files live under "main/".
  if (target.component.startsWith('updates/'))
    dirs.push(`${target.component.slice(8)}/binary-${target.arch}/`);
  for (const dir of dirs) {
    for (const [name, compression] of INDEX_NAMES) {
      const file = target.release.files.get(`${dir}${name}`);
      if (file !== undefined) return { relPath: `${dir}${name}`, file, compression };
    }
  }
  return undefined;
}

async function loadIndex(
  input: { relPath: string; file: ReleaseFile; compression: IndexCompression; target: IndexTarget },
  ctx: SourceContext,
): Promise<readonly PackageRecord[]> {
  const { relPath, file, compression, target } = input;
  const apt = path.join(ctx.cacheDir, 'apt');
  const cached = path.join(apt, 'by-hash', 'sha256', file.sha256);
  const parsedDir = path.join(apt, 'parsed', PARSED_FORMAT);
  const stat = await fs.stat(cached).catch(() => undefined);
  if (stat?.size !== file.sizeBytes) {
    await downloadIndex(`${target.dist}${relPath}`, cached, { ...input, ctx });
  } else {
    ctx.logger.debug(`using cached index "${relPath}" of "${redact(target.dist)}"`);
  }
  return readPackagesIndex({
    file: cached,
    sha256: file.sha256,
    compression,
    parsedDir,
    origin: target.origin,
    logger: ctx.logger,
    signal: ctx.signal,
  });
}

async function downloadIndex(
  url: string,
  dest: string,
  input: { relPath: string; file: ReleaseFile; target: IndexTarget; ctx: SourceContext },
): Promise<void> {
  const { file, target, ctx, relPath } = input;
  const expected = { sha256: file.sha256, sizeBytes: file.sizeBytes, signal: ctx.signal };
  if (target.release.acquireByHash) {
    const byHash =
      `${target.dist}${path.posix.dirname(relPath)}/by-hash/SHA256/${file.sha256}`.replace(
        '/./',
        '/',
      );
    try {
      await ctx.http.download(byHash, dest, expected);
      return;
    } catch (err) {
      if (!isCopaError(err, 'REPOSITORY_UNAVAILABLE')) throw err;
      ctx.logger.debug(`fetching "${redact(url)}" by name: ${(err as Error).message}`);
    }
  }
  await ctx.http.download(url, dest, expected);
}
