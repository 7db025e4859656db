/**
 * Unpacking prepared packages into layer entries, as dpkg's `tarobject()` and
 * `pkg_remove_old_files()` would change the image: new files at their canonical paths, existing
 * directories left alone, conffiles decided, files the old versions owned whited out.
 */
import { posix } from 'node:path';

import { CopaError } from '../../errors.js';
import type { LayerEntry } from '../../layer/types.js';
import type { Logger } from '../../log.js';
import { fieldValue } from './control.js';
import { parseConffilesMember } from './conffiles.js';
import { ADMIN_DIR, type DpkgDatabase } from './dpkg-database.js';
import { collectOtherOwners, oldFileList, replacesPackage, type FileOwner } from './file-owners.js';
import { controlText, type PreparedPackage } from './prepared-package.js';
import { RemovalPlanner } from './removal-planner.js';
import { infoKey, parseConffiles, type ConffileRecord } from './status-database.js';
import { parentPrefixes, toTreePath, type TreeView } from './tree-view.js';
import { UnpackState, type InstallRules } from './unpack-state.js';

export type { InstallRules } from './unpack-state.js';

export interface UnpackOptions {
  readonly db: DpkgDatabase;
  readonly view: TreeView;
  readonly packages: readonly PreparedPackage[];
  readonly rules: InstallRules;
  readonly logger: Logger;
  /** Checked between the steps and packages; an abort rejects with its reason. */
  readonly signal?: AbortSignal;
}

/** What unpacking decided, per package, for the database writer. */
export interface UnpackedPackage {
  readonly pkg: PreparedPackage;
  /** The new `.list`: package paths in archive order, then obsolete conffiles. */
  readonly list: readonly string[];
  readonly conffiles: readonly ConffileRecord[];
  /** Package paths not written because of `path-exclude` filters. */
  readonly filtered: ReadonlySet<string>;
}

export interface UnpackResult {
  readonly entries: Map<string, LayerEntry>;
  readonly whiteouts: Set<string>;
  readonly packages: readonly UnpackedPackage[];
  /** Other packages' `.list` files with the paths taken over by new versions removed. */
  readonly rewrittenLists: ReadonlyMap<string, readonly string[]>;
  /** Info keys of packages whose every file was taken over: dpkg drops them. */
  readonly disappeared: ReadonlySet<string>;
}

const INFO = `${ADMIN_DIR}/info`;

/**
 * Computes the entries of all prepared packages at once, so that files moving between them are
 * never whited out. Throws `PATCH_FAILED` when a new file belongs to another installed package
 * that neither side `Replaces`.
 */
export async function unpackPackages(options: UnpackOptions): Promise<UnpackResult> {
  const { db, view, packages, rules, signal } = options;
  signal?.throwIfAborted();
  const changing = new Set(packages.filter((p) => p.old).map((p) => infoKey(p.old!.entry)));
  const actual = (path: string, pkgName: string): string => {
    const d = rules.diversions.get(path);
    return d !== undefined && d.by !== pkgName ? d.to : path;
  };

  const oldLists = new Map<PreparedPackage, string[]>();
  for (const pkg of packages) {
    if (pkg.old === undefined) continue;
    const key = infoKey(pkg.old.entry);
    const list = oldFileList(view, db, { key, ...pkg.old });
    oldLists.set(pkg, list ?? []);
  }
  const wanted: string[] = [];
  for (const pkg of packages) {
    for (const m of pkg.members) wanted.push(toTreePath(actual(m.path, pkg.name)));
    for (const p of oldLists.get(pkg) ?? []) wanted.push(toTreePath(actual(p, pkg.name)));
  }
  const canonical = await view.canonicalise(wanted.filter((p) => p !== ''));
  signal?.throwIfAborted();
  const canon = (path: string, pkgName: string): string => {
    const tree = toTreePath(actual(path, pkgName));
    return canonical.get(tree) ?? view.canonicalKnown(tree);
  };

  const otherOwners = collectOtherOwners(view, db, changing);
  // Leaves whose state matters: directories and symlinks to write, conffiles, and old files no
  // new version ships. Replaced regular files are not read (their content is not needed).
  const shipped = new Set(
    packages.flatMap((pkg) => pkg.members.map((m) => canon(m.path, pkg.name))),
  );
  const leaves = new Set<string>();
  for (const pkg of packages) {
    for (const m of pkg.members) {
      if (m.type === 'directory' || m.type === 'symlink') leaves.add(canon(m.path, pkg.name));
    }
    for (const c of parseConffilesMember(controlText(pkg, 'conffiles'))) {
      leaves.add(canon(c.path, pkg.name));
    }
    for (const p of oldLists.get(pkg) ?? []) {
      const path = canon(p, pkg.name);
      if (!shipped.has(path)) leaves.add(path);
    }
  }
  await view.load(
    [...leaves].filter((p) => p !== ''),
    removalCandidates(packages, oldLists, canon),
  );
  signal?.throwIfAborted();

  const state = new UnpackState(view, rules);
  const unpacked: UnpackedPackage[] = [];
  const rewritten = new Map<string, Set<string>>();
  const newCanon = new Set<string>();
  for (const pkg of packages) {
    signal?.throwIfAborted();
    const result = unpackOne({ pkg, canon, otherOwners, rewritten, state, newCanon });
    unpacked.push(result);
  }
  state.finishHardlinks();
  for (const name of state.unknownNames) {
    options.logger.warn(`the image has no ${name}: its files keep the package's numeric id`);
  }

  const removals = new RemovalPlanner(view, state, otherOwners, newCanon);
  for (const [pkg, list] of oldLists) {
    const result = unpacked.find((u) => u.pkg === pkg)!;
    const keep = new Set([...result.conffiles.map((c) => c.path)]);
    for (const c of parseConffiles(fieldValue(pkg.old!.entry.stanza, 'Conffiles'))) {
      keep.add(c.path);
    }
    for (const p of [...list].reverse()) {
      if (p === '/.' || keep.has(p) || result.list.includes(p)) continue;
      removals.consider(canon(p, pkg.name));
    }
  }
  removals.finish();
  state.addExcludedParents();

  const rewrittenLists = new Map<string, string[]>();
  for (const [key, taken] of rewritten) {
    const list = oldFileList(view, db, { key }) ?? [];
    rewrittenLists.set(
      key,
      list.filter((p) => !taken.has(p)),
    );
  }
  signal?.throwIfAborted();
  const disappeared = await findDisappeared(view, db, rewrittenLists);
  signal?.throwIfAborted();
  for (const key of disappeared) rewrittenLists.delete(key);
  return {
    entries: state.entries,
    whiteouts: state.whiteouts,
    packages: unpacked,
    rewrittenLists,
    disappeared,
  };
}

/**
 * Packages left with nothing but directories after their files were taken over "disappear", as
 * dpkg makes them: their stanza and info files go. Essential and protected packages stay.
 */
async function findDisappeared(
  view: TreeView,
  db: DpkgDatabase,
  lists: ReadonlyMap<string, readonly string[]>,
): Promise<Set<string>> {
  if (lists.size === 0) return new Set();
  const remaining = [...lists.values()].flat().filter((p) => p !== '/.');
  await view.load(
    remaining.map((p) => view.canonicalKnown(toTreePath(p))),
    (p) => [...lists.keys()].some((key) => p.startsWith(`${INFO}/${key}.`)),
  );
  const out = new Set<string>();
  for (const [key, list] of lists) {
    const entry = db.packages.find((p) => infoKey(p.entry) === key)?.entry;
    if (entry === undefined) continue;
    const keep = ['Essential', 'Protected'].some((f) => fieldValue(entry.stanza, f) === 'yes');
    const onlyDirs = list.every((p) => {
      if (p === '/.') return true;
      const path = view.resolveKnown(view.canonicalKnown(toTreePath(p)));
      return view.get(path)?.type === 'directory';
    });
    if (!keep && onlyDirs) out.add(key);
  }
  return out;
}

/**
 * Selects what removing old files needs to see, so that it is read in the same pass as the
 * leaves: everything below paths the old versions listed and the new ones do not, and compiled
 * Python files next to replaced or removed modules.
 */
function removalCandidates(
  packages: readonly PreparedPackage[],
  oldLists: ReadonlyMap<PreparedPackage, string[]>,
  canon: (path: string, pkgName: string) => string,
): (path: string) => boolean {
  const kept = new Set<string>();
  const pycDirs = new Set<string>();
  const addPy = (path: string): void => {
    if (path.endsWith('.py')) pycDirs.add(`${posix.dirname(path)}/__pycache__`);
  };
  for (const pkg of packages) {
    for (const m of pkg.members) {
      const path = canon(m.path, pkg.name);
      kept.add(path);
      addPy(path);
    }
  }
  const dropped = new Set<string>();
  for (const [pkg, list] of oldLists) {
    for (const p of list) {
      const path = canon(p, pkg.name);
      addPy(path);
      if (!kept.has(path)) dropped.add(path);
    }
  }
  return (p) => {
    if (p.endsWith('.pyc') && pycDirs.has(posix.dirname(p))) return true;
    return parentPrefixes(p).some((a) => dropped.has(a));
  };
}

interface UnpackOneInput {
  readonly pkg: PreparedPackage;
  readonly canon: (path: string, pkgName: string) => string;
  readonly otherOwners: ReadonlyMap<string, FileOwner[]>;
  readonly rewritten: Map<string, Set<string>>;
  readonly state: UnpackState;
  readonly newCanon: Set<string>;
}

function unpackOne(input: UnpackOneInput): UnpackedPackage {
  const { pkg, canon, state } = input;
  const declared = parseConffilesMember(controlText(pkg, 'conffiles'));
  const declaredPaths = new Set(declared.map((c) => c.path));
  const oldConffiles = parseConffiles(
    pkg.old === undefined ? undefined : fieldValue(pkg.old.entry.stanza, 'Conffiles'),
  );
  const list: string[] = [];
  const conffiles: ConffileRecord[] = [];
  const filtered = new Set<string>();
  for (const member of pkg.members) {
    if (member.path === '/.') {
      list.push(member.path);
      continue;
    }
    const path = canon(member.path, pkg.name);
    if (member.type !== 'directory' && !claimPath(input, member.path, path)) continue;
    list.push(member.path);
    input.newCanon.add(path);
    if (state.rules.excluded(member.path)) {
      if (member.type === 'directory') state.deferExcludedDirectory(path, member);
      else filtered.add(member.path);
      continue;
    }
    if (member.type === 'file' && declaredPaths.has(member.path)) {
      // TODO: use the hashes of a `config-files` stanza when reinstalling over one; until then
      // its unedited conffiles count as edited and the new versions land in `.dpkg-dist`.
      const old = oldConffiles.find((c) => c.path === member.path)?.md5;
      const assumeUnedited = pkg.old !== undefined && pkg.old.statusFile !== undefined;
      conffiles.push({ path: member.path, md5: member.content!.md5 });
      state.installConffile(member, path, { old, assumeUnedited });
      continue;
    }
    state.install(member, path);
  }
  for (const old of oldConffiles) {
    if (declaredPaths.has(old.path)) continue;
    conffiles.push({ ...old, obsolete: true });
    if (!list.includes(old.path)) list.push(old.path);
  }
  for (const c of declared) {
    if (c.removeOnUpgrade) state.removeConffile(canon(c.path, pkg.name), oldConffiles, c.path);
  }
  return { pkg, list, conffiles, filtered };
}

/** Decides whether a new non-directory file may be written, recording takeovers. */
function claimPath(input: UnpackOneInput, raw: string, path: string): boolean {
  const { pkg, otherOwners, rewritten } = input;
  for (const owner of otherOwners.get(path) ?? []) {
    if (owner.name === pkg.name && pkg.multiArch === 'same') continue;
    if (replacesPackage(pkg.replaces, owner.name, owner.version)) {
      const taken = rewritten.get(owner.key) ?? new Set<string>();
      taken.add(owner.raw);
      rewritten.set(owner.key, taken);
      continue;
    }
    if (replacesPackage(owner.replaces, pkg.name, pkg.version)) return false;
    throw new CopaError(
      'PATCH_FAILED',
      `unpacking "${pkg.name}" ${pkg.version}: "${raw}" also belongs to "${owner.name}"`,
      {
        hint: `Update "${owner.name}" together with "${pkg.name}", or ask for both in the report.`,
      },
    );
  }
  return true;
}
