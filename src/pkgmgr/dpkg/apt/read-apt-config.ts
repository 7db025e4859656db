/**
 * Reads the image's apt configuration from its file tree: sources, trusted keyrings, the keys
 * `Signed-By` names and the proxy settings of `apt.conf`.
 */
import * as path from 'node:path/posix';

import type { FileTree, TreeFile } from '../../types.js';
import { aptConfSettings, parseAptConf } from './apt-conf.js';
import { parseDeb822Sources, parseSourcesList, type SourceEntry } from './sources.js';
import type { AptConfig, AptSource, KeySource, OsRelease } from './types.js';

const MAX_LINK_HOPS = 8;

/**
 * Selects the files {@link readAptConfig} reads, so callers can add them to one pass over the
 * layers: `etc/apt/{sources.list,sources.list.d/*,trusted.gpg,trusted.gpg.d/*,apt.conf,
 * apt.conf.d/*,keyrings/*}` and `usr/share/keyrings/*`.
 */
export function aptConfigPaths(p: string): boolean {
  if (p.startsWith('usr/share/keyrings/')) return !p.slice(19).includes('/');
  if (!p.startsWith('etc/apt/')) return false;
  const rel = p.slice(8);
  if (rel === 'sources.list' || rel === 'trusted.gpg' || rel === 'apt.conf') return true;
  const slash = rel.indexOf('/');
  if (slash < 0 || rel.indexOf('/', slash + 1) >= 0) return false;
  const dir = rel.slice(0, slash);
  return ['sources.list.d', 'trusted.gpg.d', 'apt.conf.d', 'keyrings'].includes(dir);
}

/**
 * Reads the image's apt configuration. Sources come from `etc/apt/sources.list` and
 * `etc/apt/sources.list.d/*.list|*.sources` in apt's order; `Signed-By` key files are read
 * from the image wherever they are (a second pass over the layers only for paths outside
 * {@link aptConfigPaths}). Throws `REPOSITORY_CONFIG_INVALID` on malformed sources.
 */
export async function readAptConfig(
  tree: FileTree,
  options: { readonly osRelease: OsRelease },
): Promise<AptConfig> {
  const files = new Map(await tree.readFiles(aptConfigPaths));
  const entries = sourceEntries(files);
  const wanted = entries.flatMap((e) =>
    (e.signedBy ?? []).flatMap((ref) => (ref.kind === 'path' ? [relative(ref.path)] : [])),
  );
  const trusted = trustedPaths(files);
  const keyFiles = await readWithLinks(tree, files, [...wanted, ...trusted]);
  const sources = entries.map((e) => toSource(e, keyFiles));
  const trustedKeys = trusted.flatMap((p): KeySource[] => {
    const data = keyFiles.get(p);
    return data === undefined ? [] : [{ kind: 'file', path: `/${p}`, data }];
  });
  return {
    osRelease: options.osRelease,
    sources,
    trustedKeys,
    ...aptConfSettings(confValues(files)),
  };
}

function sourceEntries(files: ReadonlyMap<string, TreeFile>): SourceEntry[] {
  const entries: SourceEntry[] = [];
  const main = files.get('etc/apt/sources.list')?.content;
  if (main !== undefined) entries.push(...parseSourcesList(text(main), 'etc/apt/sources.list'));
  for (const [p, file] of inDirectory(files, 'etc/apt/sources.list.d/')) {
    if (file.content === undefined) continue;
    if (p.endsWith('.list')) entries.push(...parseSourcesList(text(file.content), p));
    else if (p.endsWith('.sources')) entries.push(...parseDeb822Sources(text(file.content), p));
  }
  return entries;
}

function toSource(entry: SourceEntry, keyFiles: ReadonlyMap<string, Uint8Array>): AptSource {
  const { signedBy, ...rest } = entry;
  if (signedBy === undefined) return rest;
  const keys: KeySource[] = signedBy.map((ref) => {
    if (ref.kind === 'inline') return { kind: 'inline', path: entry.from, armored: ref.armored };
    if (ref.kind === 'fingerprint') return ref;
    const data = keyFiles.get(relative(ref.path));
    return data === undefined
      ? { kind: 'missing', path: ref.path }
      : { kind: 'file', path: ref.path, data };
  });
  return { ...rest, signedBy: keys };
}

function trustedPaths(files: ReadonlyMap<string, TreeFile>): string[] {
  const dir = inDirectory(files, 'etc/apt/trusted.gpg.d/').map(([p]) => p);
  const main = files.has('etc/apt/trusted.gpg') ? ['etc/apt/trusted.gpg'] : [];
  return [...main, ...dir.filter((p) => /\.(gpg|asc)$/.test(p))];
}

/** apt reads `apt.conf.d/*` in order, then `apt.conf`; later values win. */
function confValues(files: ReadonlyMap<string, TreeFile>): Map<string, string> {
  const values = new Map<string, string>();
  const parts = inDirectory(files, 'etc/apt/apt.conf.d/').filter(
    ([p]) => /^[A-Za-z0-9_.-]+$/.test(path.basename(p)) && !/\.(disabled|bak|dpkg-[a-z]+)$/.test(p),
  );
  const main = files.get('etc/apt/apt.conf');
  for (const [, file] of main === undefined ? parts : [...parts, ['', main] as const]) {
    if (file.content === undefined) continue;
    for (const [k, v] of parseAptConf(text(file.content))) values.set(k, v);
  }
  return values;
}

function inDirectory(files: ReadonlyMap<string, TreeFile>, dir: string): [string, TreeFile][] {
  return [...files]
    .filter(
      ([p, f]) => p.startsWith(dir) && !p.slice(dir.length).includes('/') && f.type !== 'directory',
    )
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Returns the content of each wanted path, following symbolic links inside the image and
 * reading paths not yet read with one more pass per hop.
 */
async function readWithLinks(
  tree: FileTree,
  files: Map<string, TreeFile>,
  wanted: readonly string[],
): Promise<Map<string, Uint8Array>> {
  const result = new Map<string, Uint8Array>();
  let pending = new Map(wanted.map((p) => [p, p]));
  for (let hop = 0; hop <= MAX_LINK_HOPS && pending.size > 0; hop++) {
    const missing = [...new Set(pending.values())].filter((p) => !files.has(p));
    if (missing.length > 0) {
      const set = new Set(missing);
      for (const [p, f] of await tree.readFiles((q) => set.has(q))) files.set(p, f);
    }
    const next = new Map<string, string>();
    for (const [origin, current] of pending) {
      const file = files.get(current);
      if (file?.type === 'symlink' && file.target !== undefined) {
        const target = file.target.startsWith('/')
          ? relative(file.target)
          : path.normalize(path.join(path.dirname(current), file.target));
        next.set(origin, target);
      } else if (file?.content !== undefined) {
        result.set(origin, file.content);
      }
    }
    pending = next;
  }
  return result;
}

function relative(p: string): string {
  return path.normalize(p).replace(/^\/+/, '');
}

function text(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
}
