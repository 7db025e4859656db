/**
 * Fetching a suite's Release files through the on-disk cache: a copy younger than the maximum
 * age is used as is, an older one is revalidated with `If-None-Match` / `If-Modified-Since`.
 * Whatever comes from disk is verified again, like what comes from the network.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

import { CopaError } from '../../../errors.js';
import type { Logger } from '../../../log.js';
import { redact, type HttpClient } from './http-client.js';
import { writeAtomic } from './write-atomic.js';

/** Release files as fetched, before verification. */
export type ReleaseFiles =
  | { readonly kind: 'inrelease'; readonly inRelease: Buffer; readonly fromCache: boolean }
  | {
      readonly kind: 'detached';
      readonly release: Buffer;
      readonly signature: Buffer | undefined;
      readonly fromCache: boolean;
    };

interface CacheMeta {
  readonly kind: 'inrelease' | 'detached';
  readonly fetchedAtMs: number;
  readonly etag?: string;
  readonly lastModified?: string;
}

export interface ReleaseFetchOptions {
  readonly http: HttpClient;
  readonly cacheDir: string;
  readonly maxAgeMs: number;
  /** Ignore the cached copy (after it failed verification). */
  readonly refresh?: boolean;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

/**
 * Returns the Release files of the suite at `distUrl` (ending in `/`). Throws
 * `REPOSITORY_UNAVAILABLE` when the server has neither `InRelease` nor `Release`.
 */
export async function fetchReleaseFiles(
  distUrl: string,
  options: ReleaseFetchOptions,
): Promise<ReleaseFiles> {
  const dir = path.join(
    options.cacheDir,
    'apt',
    'releases',
    createHash('sha256').update(distUrl).digest('hex'),
  );
  const meta = options.refresh === true ? undefined : await readMeta(dir);
  if (meta !== undefined && Date.now() - meta.fetchedAtMs < options.maxAgeMs) {
    const cached = await readCached(dir, meta.kind);
    if (cached !== undefined) {
      options.logger.debug(`using cached Release of "${redact(distUrl)}"`);
      return cached;
    }
  }
  const inRelease = await conditionalGet(
    `${distUrl}InRelease`,
    meta?.kind === 'inrelease' ? meta : undefined,
    options,
  );
  if (inRelease === 'not-modified') {
    const cached = await readCached(dir, 'inrelease');
    if (cached !== undefined) {
      await writeMeta(dir, { ...meta!, fetchedAtMs: Date.now() });
      return cached;
    }
    return fetchReleaseFiles(distUrl, { ...options, refresh: true });
  }
  if (inRelease !== undefined) {
    await writeAtomic(path.join(dir, 'InRelease'), inRelease.bytes);
    await writeMeta(dir, { kind: 'inrelease', fetchedAtMs: Date.now(), ...inRelease.validators });
    return { kind: 'inrelease', inRelease: inRelease.bytes, fromCache: false };
  }
  return fetchDetached(distUrl, dir, options);
}

async function fetchDetached(
  distUrl: string,
  dir: string,
  options: ReleaseFetchOptions,
): Promise<ReleaseFiles> {
  const release = await options.http.getBytes(`${distUrl}Release`, { signal: options.signal });
  if (release === undefined) {
    throw new CopaError(
      'REPOSITORY_UNAVAILABLE',
      `fetching "${redact(distUrl)}": the suite has neither InRelease nor Release`,
      {
        hint: 'Check the suite name and the mirror URL of the sources.',
      },
    );
  }
  const signature = await options.http.getBytes(`${distUrl}Release.gpg`, {
    signal: options.signal,
  });
  await writeAtomic(path.join(dir, 'Release'), release.bytes);
  if (signature !== undefined) await writeAtomic(path.join(dir, 'Release.gpg'), signature.bytes);
  else await fs.rm(path.join(dir, 'Release.gpg'), { force: true });
  await writeMeta(dir, {
    kind: 'detached',
    fetchedAtMs: Date.now(),
    ...validators(release.headers),
  });
  return {
    kind: 'detached',
    release: release.bytes,
    signature: signature?.bytes,
    fromCache: false,
  };
}

async function conditionalGet(
  url: string,
  meta: CacheMeta | undefined,
  options: ReleaseFetchOptions,
): Promise<'not-modified' | { bytes: Buffer; validators: Partial<CacheMeta> } | undefined> {
  const headers: Record<string, string> = {};
  if (meta?.etag !== undefined) headers['if-none-match'] = meta.etag;
  if (meta?.lastModified !== undefined) headers['if-modified-since'] = meta.lastModified;
  const res = await options.http.getBytes(url, { headers, signal: options.signal });
  if (res === undefined) return undefined;
  if (res.status === 304) return 'not-modified';
  return { bytes: res.bytes, validators: validators(res.headers) };
}

function validators(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Partial<CacheMeta> {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const etag = one(headers['etag']);
  const lastModified = one(headers['last-modified']);
  return {
    ...(etag !== undefined && { etag }),
    ...(lastModified !== undefined && { lastModified }),
  };
}

async function readMeta(dir: string): Promise<CacheMeta | undefined> {
  try {
    const meta = JSON.parse(await fs.readFile(path.join(dir, 'meta.json'), 'utf8')) as CacheMeta;
    return (meta.kind === 'inrelease' || meta.kind === 'detached') &&
      typeof meta.fetchedAtMs === 'number'
      ? meta
      : undefined;
  } catch {
    return undefined;
  }
}

async function writeMeta(dir: string, meta: CacheMeta): Promise<void> {
  await writeAtomic(path.join(dir, 'meta.json'), Buffer.from(JSON.stringify(meta)));
}

async function readCached(dir: string, kind: CacheMeta['kind']): Promise<ReleaseFiles | undefined> {
  const read = (name: string) => fs.readFile(path.join(dir, name)).catch(() => undefined);
  if (kind === 'inrelease') {
    const inRelease = await read('InRelease');
    return inRelease && { kind, inRelease, fromCache: true };
  }
  const release = await read('Release');
  return release && { kind, release, signature: await read('Release.gpg'), fromCache: true };
}
