/**
 * Removing what old versions owned and new ones do not ship, as dpkg's
 * `pkg_remove_old_files()`, expressed as whiteouts.
 */
import { posix } from 'node:path';

import type { FileOwner } from './file-owners.js';
import { parentPrefixes, type TreeView } from './tree-view.js';
import type { UnpackState } from './unpack-state.js';

/**
 * Decides which files of old versions to remove (`pkg_remove_old_files`): a path still owned by
 * another package or by a new version stays; a directory goes only when nothing is left in it.
 */
export class RemovalPlanner {
  readonly #view: TreeView;
  readonly #state: UnpackState;
  readonly #owners: ReadonlyMap<string, FileOwner[]>;
  readonly #kept: ReadonlySet<string>;
  readonly #files = new Set<string>();
  readonly #dirs = new Set<string>();

  constructor(
    view: TreeView,
    state: UnpackState,
    owners: Map<string, FileOwner[]>,
    kept: Set<string>,
  ) {
    this.#view = view;
    this.#state = state;
    this.#owners = owners;
    this.#kept = kept;
  }

  consider(path: string): void {
    if (path === '' || this.#kept.has(path) || this.#owners.has(path)) return;
    if (this.#state.entries.has(path)) return;
    const existing = this.#view.get(path);
    if (existing === undefined) return;
    if (existing.type === 'directory') this.#dirs.add(path);
    else this.#files.add(path);
  }

  /** Decides, from what the view already holds (see `removalCandidates`). */
  finish(): void {
    const pyc = new Map<string, string[]>();
    for (const f of this.#files) {
      if (!f.endsWith('.py')) continue;
      const dir = `${posix.dirname(f)}/__pycache__`;
      pyc.set(dir, [...(pyc.get(dir) ?? []), `${posix.basename(f, '.py')}.`]);
    }
    for (const entry of this.#state.entries.keys()) {
      if (!entry.endsWith('.py')) continue;
      const dir = `${posix.dirname(entry)}/__pycache__`;
      pyc.set(dir, [...(pyc.get(dir) ?? []), `${posix.basename(entry, '.py')}.`]);
    }
    const dirs = [...this.#dirs];
    const isPyc = (p: string): boolean => {
      const stems = pyc.get(posix.dirname(p));
      return (
        stems !== undefined &&
        p.endsWith('.pyc') &&
        stems.some((s) => posix.basename(p).startsWith(s))
      );
    };
    for (const f of this.#files) this.#state.whiteouts.add(f);
    for (const file of this.#view.files(isPyc)) this.#state.whiteouts.add(file.path);
    for (const dir of dirs.sort((a, b) => b.length - a.length)) {
      if (this.#isStillUsed(dir)) continue;
      this.#state.whiteouts.add(dir);
    }
  }

  #isStillUsed(dir: string): boolean {
    const prefix = `${dir}/`;
    for (const p of this.#owners.keys()) if (p.startsWith(prefix)) return true;
    for (const p of this.#kept) if (p.startsWith(prefix)) return true;
    for (const p of this.#state.entries.keys()) if (p.startsWith(prefix)) return true;
    for (const file of this.#view.files((p) => p.startsWith(prefix))) {
      if (!this.#isRemoved(file.path)) return true;
    }
    return false;
  }

  #isRemoved(path: string): boolean {
    for (const p of [path, ...parentPrefixes(path)]) if (this.#state.whiteouts.has(p)) return true;
    return false;
  }
}
