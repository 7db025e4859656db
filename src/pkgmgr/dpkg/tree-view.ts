/**
 * A lazily filled view of the image's merged file system: asks the {@link FileTree} only for
 * the paths it needs, remembers absent ones, and resolves parent directories through the image's
 * own symlinks (usrmerge: `bin -> usr/bin`), absolute targets relative to the image root.
 */
import { posix } from 'node:path';

import { CopaError } from '../../errors.js';
import type { FileTree, TreeFile } from '../types.js';

const MAX_HOPS = 40;
const MAX_ROUNDS = 12;

/** Strips leading `/` and `./`: package paths (`/usr/bin/x`) become tree paths (`usr/bin/x`). */
export function toTreePath(path: string): string {
  const normal = posix.normalize(`/${path}`).replace(/^\/+/, '').replace(/\/+$/, '');
  return normal === '.' ? '' : normal;
}

/** All proper prefixes of a tree path: `a/b/c` gives `a`, `a/b`. */
export function parentPrefixes(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i += 1) out.push(parts.slice(0, i).join('/'));
  return out;
}

/** A resolved path, or the first unknown component with the rest of the path after it. */
type Resolution = { readonly path: string } | { readonly missing: string; readonly rest: string };

/** See the module comment. Not safe for concurrent `load` calls. */
export class TreeView {
  readonly #tree: FileTree;
  readonly #known = new Map<string, TreeFile | null>();

  constructor(tree: FileTree) {
    this.#tree = tree;
  }

  /** Reads the paths not asked for before, plus those `extra` selects, in one pass. */
  async load(paths: Iterable<string>, extra?: (path: string) => boolean): Promise<void> {
    const wanted = new Set<string>();
    for (const p of paths) if (!this.#known.has(p)) wanted.add(p);
    if (wanted.size === 0 && extra === undefined) return;
    const files = await this.#tree.readFiles((p) => wanted.has(p) || (extra?.(p) ?? false));
    for (const p of wanted) this.#known.set(p, null);
    for (const [p, file] of files) this.#known.set(p, file);
  }

  /** The file at `path`, `undefined` when absent or never loaded. */
  get(path: string): TreeFile | undefined {
    return this.#known.get(path) ?? undefined;
  }

  /** Every loaded, present file whose path `select` accepts. */
  *files(select: (path: string) => boolean): Iterable<TreeFile> {
    for (const [p, file] of this.#known) if (file !== null && select(p)) yield file;
  }

  /**
   * Resolves the parent directories of each path through the image's symlinks, loading what is
   * needed in as few passes as possible. Returns canonical tree paths by input path. Throws
   * `PATCH_FAILED` for a symlink loop or a path escaping the root.
   */
  async canonicalise(paths: Iterable<string>): Promise<Map<string, string>> {
    const input = [...new Set(paths)];
    await this.load(input.flatMap(parentPrefixes));
    const out = new Map<string, string>();
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const missing = new Set<string>();
      for (const p of input) {
        if (out.has(p)) continue;
        const r = this.#resolveParents(p);
        if ('path' in r) out.set(p, r.path);
        else missing.add(r.rest === '' ? r.missing : `${r.missing}/${r.rest}`);
      }
      if (missing.size === 0) return out;
      await this.load([...missing].flatMap((m) => [...parentPrefixes(m), m]));
    }
    throw new CopaError('PATCH_FAILED', 'resolving paths of the image: too many symlink levels');
  }

  /** Resolves with what is loaded only, taking unknown components as plain directories. */
  canonicalKnown(path: string): string {
    const r = this.#resolveParents(path, true);
    return 'path' in r ? r.path : path;
  }

  /** Resolves a path fully (the leaf too), for symlinks to directories; loaded data only. */
  resolveKnown(path: string): string {
    const r = this.#walk(path.split('/').filter(Boolean), true, true);
    return 'path' in r ? r.path : path;
  }

  #resolveParents(path: string, lenient = false): Resolution {
    const parts = path.split('/').filter(Boolean);
    const leaf = parts.pop();
    if (leaf === undefined) return { path: '' };
    const r = this.#walk(parts, lenient, true);
    if (!('path' in r)) return r;
    return { path: r.path === '' ? leaf : `${r.path}/${leaf}` };
  }

  #walk(parts: string[], lenient: boolean, followLeaf: boolean): Resolution {
    const todo = [...parts];
    const done: string[] = [];
    let hops = 0;
    while (todo.length > 0) {
      const part = todo.shift()!;
      if (part === '.' || part === '') continue;
      if (part === '..') {
        done.pop();
        continue;
      }
      const candidate = [...done, part].join('/');
      if (!this.#known.has(candidate) && !lenient) {
        return { missing: candidate, rest: todo.filter((t) => t !== '' && t !== '.').join('/') };
      }
      const file = this.#known.get(candidate);
      if (
        file?.type === 'symlink' &&
        file.target !== undefined &&
        (followLeaf || todo.length > 0)
      ) {
        hops += 1;
        if (hops > MAX_HOPS)
          throw new CopaError('PATCH_FAILED', `resolving "${candidate}": symlink loop`);
        const target = file.target.split('/');
        if (file.target.startsWith('/')) done.length = 0;
        todo.unshift(...target);
        continue;
      }
      done.push(part);
    }
    return { path: done.join('/') };
  }
}
