/**
 * The packages of all opened sources, looked up by name and by virtual package, with apt's
 * candidate choice and cached, verified downloads.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';

import { compareDebianVersions } from '../version.js';
import type { HttpClient } from './http-client.js';
import type { AptRepositories, PackageRecord, RepositoryOrigin } from './types.js';

export interface PackageSetOptions {
  readonly arch: string;
  readonly origins: readonly RepositoryOrigin[];
  readonly records: readonly PackageRecord[];
  readonly http: HttpClient;
  readonly cacheDir: string;
  /** The default signal of downloads. */
  readonly signal?: AbortSignal;
}

/** Implements {@link AptRepositories} over records already read. */
export class PackageSet implements AptRepositories {
  readonly arch: string;
  readonly origins: readonly RepositoryOrigin[];
  /**
   * Records by name: one record alone (most names), else a list. Lists have their duplicates
   * removed at the first lookup, which replaces them with a frozen list.
   */
  private readonly byName = new Map<string, PackageRecord | PackageRecord[]>();
  private readonly byVirtual = new Map<string, readonly PackageRecord[]>();
  private providing: readonly PackageRecord[] | undefined;
  private readonly records: readonly PackageRecord[];
  private readonly downloads = new Map<string, Promise<string>>();
  private readonly http: HttpClient;
  private readonly debDir: string;
  private readonly signal: AbortSignal | undefined;

  constructor(options: PackageSetOptions) {
    this.arch = options.arch;
    this.origins = options.origins;
    this.http = options.http;
    this.debDir = path.join(options.cacheDir, 'debs', 'sha256');
    this.signal = options.signal;
    for (const r of options.records) {
      const known = this.byName.get(r.name);
      if (known === undefined) this.byName.set(r.name, r);
      else if (Array.isArray(known)) known.push(r);
      else this.byName.set(r.name, [known, r]);
    }
    this.records = options.records;
  }

  packages(name: string): readonly PackageRecord[] {
    const known = this.byName.get(name);
    if (known === undefined) return [];
    if (!Array.isArray(known)) return [known];
    if (Object.isFrozen(known)) return known;
    const list = Object.freeze(unique(known)) as PackageRecord[];
    this.byName.set(name, list);
    return list;
  }

  /**
   * The records whose `Provides` names `virtual`. Few lookups need it, so instead of an index of
   * every virtual name (over 100,000 in bookworm) each name is searched for once among the raw
   * `Provides` values, and only the records that may match are parsed.
   */
  providers(virtual: string): readonly PackageRecord[] {
    let found = this.byVirtual.get(virtual);
    if (found !== undefined) return found;
    this.providing ??= this.records.filter((r) => mayProvide(r));
    const list: PackageRecord[] = [];
    for (const r of this.providing) {
      if (!mayProvide(r, virtual)) continue;
      let provides;
      try {
        provides = r.provides;
      } catch {
        // One malformed stanza must not hide every other provider; its own lookups still throw.
        continue;
      }
      if (provides.some((g) => g.some((p) => p.name === virtual)) && !list.includes(r)) {
        list.push(r);
      }
    }
    found = list.length > 1 ? unique(list) : list;
    this.byVirtual.set(virtual, found);
    return found;
  }

  // TODO: pins (`etc/apt/preferences*`, `APT::Default-Release`) are not applied; an image that
  // pins versions may get a newer candidate than its apt would choose.
  candidate(name: string, arch: string = this.arch): PackageRecord | undefined {
    let best: PackageRecord | undefined;
    for (const r of this.packages(name)) {
      if (r.architecture !== arch && r.architecture !== 'all') continue;
      if (best === undefined || isPreferred(r, best)) best = r;
    }
    return best;
  }

  download(
    record: PackageRecord,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<string> {
    let pending = this.downloads.get(record.sha256);
    if (pending === undefined) {
      pending = this.fetchDeb(record, options.signal ?? this.signal);
      this.downloads.set(record.sha256, pending);
      pending.catch(() => this.downloads.delete(record.sha256));
    }
    return pending;
  }

  private async fetchDeb(record: PackageRecord, signal: AbortSignal | undefined): Promise<string> {
    const dest = path.join(this.debDir, `${record.sha256}.deb`);
    // A cached file is hashed again: cheap next to unpacking it, and it catches a damaged cache.
    if (await hasDigest(dest, record)) return dest;
    const url = `${record.origin.uri}/${record.filename.replace(/^\/+/, '')}`;
    await this.http.download(url, dest, {
      sha256: record.sha256,
      sizeBytes: record.sizeBytes,
      signal,
    });
    return dest;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

/** The records of one name without repeats: `all` packages appear in every architecture's index. */
function unique(list: readonly PackageRecord[]): PackageRecord[] {
  const seen = new Set<string>();
  return list.filter((r) => {
    const id = [r.version, r.architecture, r.sha256, r.origin.uri, r.origin.suite].join(' ');
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * Whether a record may have `Provides` (naming `name`, when given), without reading a lazy
 * record's other fields.
 */
function mayProvide(r: PackageRecord, name?: string): boolean {
  const lazy = r as { readonly hasProvides?: unknown; mayProvide?: (name: string) => boolean };
  if (name !== undefined && typeof lazy.mayProvide === 'function') return lazy.mayProvide(name);
  if (typeof lazy.hasProvides === 'boolean') return lazy.hasProvides;
  const text = r.field('provides');
  return text !== undefined && (name === undefined || text.includes(name));
}

async function hasDigest(file: string, record: PackageRecord): Promise<boolean> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (stat?.size !== record.sizeBytes) return false;
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex') === record.sha256;
}

/** apt's order without pins: the higher origin priority, then the higher version. */
function isPreferred(a: PackageRecord, b: PackageRecord): boolean {
  if (a.origin.priority !== b.origin.priority) return a.origin.priority > b.origin.priority;
  return compareDebianVersions(a.version, b.version) > 0;
}
