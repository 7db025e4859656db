/**
 * dpkg's conffile decision for a non-interactive upgrade with `--force-confold`, from
 * `deferred_configure_conffile` in dpkg's `src/main/configure.c`.
 */

/** What happens to one conffile. */
export type ConffileAction =
  /** The file on disk already is the new version: nothing is written. */
  | 'untouched'
  /** The packaged version replaces the file (or creates it). */
  | 'install'
  /** The admin's file (or its absence) stays. */
  | 'keep'
  /** The admin's file stays and the packaged version is written next to it as `.dpkg-dist`. */
  | 'keep-dist';

/** The three hashes of the decision; `undefined` means unknown (`old`) or absent (`current`). */
export interface ConffileState {
  /** MD5 recorded in the old `Conffiles` field. */
  readonly old: string | undefined;
  /** MD5 of the file now in the image. */
  readonly current: string | undefined;
  /** MD5 of the new package's version. */
  readonly packaged: string;
  /** No record of the old hash exists (distroless), so an existing file counts as unedited. */
  readonly assumeUnedited?: boolean;
}

/** Decides as dpkg does (see {@link ConffileAction}). */
export function decideConffile(state: ConffileState): ConffileAction {
  const { old, current, packaged } = state;
  if (current === packaged) return 'untouched';
  if (old !== undefined && old !== 'newconffile') {
    if (current === undefined) return 'keep';
    if (current === old) return 'install';
    return old === packaged ? 'keep' : 'keep-dist';
  }
  if (current === undefined || state.assumeUnedited === true) return 'install';
  return 'keep-dist';
}

/** One line of a package's `conffiles` control member. */
export interface ConffileDeclaration {
  readonly path: string;
  readonly removeOnUpgrade: boolean;
}

/** Parses a `conffiles` control member (`/etc/x` or `remove-on-upgrade /etc/x` lines). */
export function parseConffilesMember(text: string | undefined): ConffileDeclaration[] {
  const out: ConffileDeclaration[] = [];
  for (const line of (text ?? '').split('\n')) {
    const words = line.trim().split(/\s+/);
    const path = words.at(-1);
    if (path === undefined || !path.startsWith('/')) continue;
    out.push({ path, removeOnUpgrade: words.slice(0, -1).includes('remove-on-upgrade') });
  }
  return out;
}
