/**
 * Unpacking prepared packages into layer entries, as dpkg's `tarobject()` and
 * `pkg_remove_old_files()` would change the image: new files at their canonical paths, existing
 * directories left alone, conffiles decided, files the old versions owned whited out.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';

import { CopaError } from '../../errors.js';
import type { EntryAttributes, LayerEntry } from '../../layer/types.js';
import type { Logger } from '../../log.js';
import { satisfiesVersion, tryParseRelations, type RelationGroups } from './apt/relations.js';
import { fieldValue } from './control.js';
import { decideConffile, parseConffilesMember } from './conffiles.js';
import { ADMIN_DIR, STATUS_D, text, type DpkgDatabase } from './dpkg-database.js';
import { resolveOwner, type Diversion, type IdTables, type StatOverride } from './install-rules.js';
import { controlText, type PreparedPackage } from './prepared-package.js';
import type { DataMember } from './spool-data.js';
import { infoKey, isInstalled, parseConffiles, type ConffileRecord } from './status-database.js';
import { parentPrefixes, toTreePath, type TreeView } from './tree-view.js';

/** The image's rules, read before unpacking. */
export interface InstallRules {
  readonly diversions: ReadonlyMap<string, Diversion>;
  readonly overrides: ReadonlyMap<string, StatOverride>;
  readonly ids: IdTables;
  /** Whether a package path is excluded by `path-exclude` filters. */
  readonly excluded: (path: string) => boolean;
}

export interface UnpackOptions {
  readonly db: DpkgDatabase;
  readonly view: TreeView;
  readonly packages: readonly PreparedPackage[];
  readonly rules: InstallRules;
  readonly logger: Logger;
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

interface Owner {
  readonly key: string;
  readonly name: string;
  readonly arch: string;
  readonly version: string;
  readonly replaces: RelationGroups;
  /** The path as that package lists it. */
  readonly raw: string;
}

const INFO = `${ADMIN_DIR}/info`;

/** Reads a package's file list: `info/<key>.list`, or distroless `status.d/<file>.md5sums`. */
export function oldFileList(
  view: TreeView,
  db: DpkgDatabase,
  pkg: { key: string; statusFile?: string },
): string[] | undefined {
  if (db.layout === 'status') {
    const list = text(view.get(`${INFO}/${pkg.key}.list`));
    return list?.split('\n').filter((l) => l !== '');
  }
  const sums = text(view.get(`${STATUS_D}/${pkg.statusFile ?? pkg.key}.md5sums`));
  return sums
    ?.split('\n')
    .map((l) => /^[0-9a-f]{32} {2}(.+)$/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined)
    .map((p) => `/${p}`);
}

/**
 * Computes the entries of all prepared packages at once, so that files moving between them are
 * never whited out. Throws `PATCH_FAILED` when a new file belongs to another installed package
 * that neither side `Replaces`.
 */
export async function unpackPackages(options: UnpackOptions): Promise<UnpackResult> {
  const { db, view, packages, rules } = options;
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

  const state = new UnpackState(view, rules);
  const unpacked: UnpackedPackage[] = [];
  const rewritten = new Map<string, Set<string>>();
  const newCanon = new Set<string>();
  for (const pkg of packages) {
    const result = unpackOne({ pkg, canon, otherOwners, rewritten, state, newCanon });
    unpacked.push(result);
  }
  state.finishHardlinks();

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
  const disappeared = await findDisappeared(view, db, rewrittenLists);
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

function collectOtherOwners(
  view: TreeView,
  db: DpkgDatabase,
  changing: ReadonlySet<string>,
): Map<string, Owner[]> {
  const owners = new Map<string, Owner[]>();
  for (const { entry, statusFile } of db.packages) {
    const key = infoKey(entry);
    // Files of packages in `config-files` state may be taken without `Replaces`, as dpkg does.
    if (changing.has(key) || !isInstalled(entry)) continue;
    const replacesText = fieldValue(entry.stanza, 'Replaces');
    const replaces = parseReplaces(replacesText);
    const info = { key, name: entry.name, arch: entry.arch, version: entry.version, replaces };
    for (const raw of oldFileList(view, db, { key, ...(statusFile ? { statusFile } : {}) }) ?? []) {
      if (raw === '/.') continue;
      const path = view.canonicalKnown(toTreePath(raw));
      const list = owners.get(path) ?? [];
      list.push({ ...info, raw });
      owners.set(path, list);
    }
  }
  return owners;
}

function parseReplaces(value: string | undefined): RelationGroups {
  return value === undefined ? [] : (tryParseRelations(value) ?? []);
}

/** Reports whether a `Replaces` field names the package at that version. */
function replacesPackage(replaces: RelationGroups, name: string, version: string): boolean {
  return replaces.some((g) => g.some((r) => r.name === name && satisfiesVersion(version, r)));
}

interface UnpackOneInput {
  readonly pkg: PreparedPackage;
  readonly canon: (path: string, pkgName: string) => string;
  readonly otherOwners: ReadonlyMap<string, Owner[]>;
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

/** The entries written so far and the image state they are decided against. */
class UnpackState {
  readonly entries = new Map<string, LayerEntry>();
  readonly whiteouts = new Set<string>();
  readonly view: TreeView;
  readonly rules: InstallRules;
  readonly #hardlinks: { member: DataMember; path: string; target: string }[] = [];
  readonly #excludedDirs = new Map<string, DataMember>();

  constructor(view: TreeView, rules: InstallRules) {
    this.view = view;
    this.rules = rules;
  }

  // TODO: add users and groups that a preinst would create; until then files owned by names the
  // image does not know keep the archive's numeric ids, which may belong to another account.
  attributes(member: DataMember, path: string): EntryAttributes {
    const override = this.rules.overrides.get(member.path) ?? this.rules.overrides.get(`/${path}`);
    const owner = resolveOwner(member, this.rules.ids);
    return {
      path,
      mode: override?.mode ?? member.mode,
      uid: override?.uid ?? owner.uid,
      gid: override?.gid ?? owner.gid,
      mtime: member.mtime,
    };
  }

  install(member: DataMember, path: string): void {
    const attrs = this.attributes(member, path);
    const existing = this.view.get(path);
    switch (member.type) {
      case 'directory':
        if (this.entries.get(path)?.type === 'directory') return;
        if (existing?.type === 'directory' || this.#isDirectoryLink(path)) return;
        this.entries.set(path, { ...attrs, type: 'directory' });
        return;
      case 'symlink':
        if (existing?.type === 'directory') return;
        if (existing?.type === 'symlink' && this.#sameDirectory(path, member.target!)) return;
        this.entries.set(path, { ...attrs, type: 'symlink', target: member.target! });
        return;
      case 'file': {
        // TODO: apply the capabilities a postinst sets with setcap (iputils-ping, arping); the
        // new binary is written without them and needs root or a setuid fallback to work.
        const content = member.content!;
        const file = { kind: 'path', path: content.path, size: content.sizeBytes } as const;
        this.entries.set(path, { ...attrs, type: 'file', content: file });
        return;
      }
      case 'hardlink':
        this.#hardlinks.push({ member, path, target: member.target! });
        return;
      case 'char-device':
      case 'block-device':
        this.entries.set(path, {
          ...attrs,
          type: member.type,
          devMajor: member.devMajor ?? 0,
          devMinor: member.devMinor ?? 0,
        });
        return;
      case 'fifo':
        this.entries.set(path, { ...attrs, type: 'fifo' });
    }
  }

  #isDirectoryLink(path: string): boolean {
    const resolved = this.view.resolveKnown(path);
    return this.view.get(resolved)?.type === 'directory';
  }

  #sameDirectory(path: string, target: string): boolean {
    const oldResolved = this.view.resolveKnown(path);
    if (this.view.get(oldResolved)?.type !== 'directory') return false;
    const base = target.startsWith('/') ? target : posix.join(posix.dirname(`/${path}`), target);
    return this.view.resolveKnown(toTreePath(base)) === oldResolved;
  }

  installConffile(
    member: DataMember,
    path: string,
    known: { old: string | undefined; assumeUnedited: boolean },
  ): void {
    const existing = this.view.get(path);
    const current =
      existing?.content === undefined
        ? undefined
        : createHash('md5').update(existing.content).digest('hex');
    const action = decideConffile({
      old: known.old,
      current,
      packaged: member.content!.md5,
      assumeUnedited: known.assumeUnedited,
    });
    if (action === 'install') {
      this.install(member, path);
      const entry = this.entries.get(path);
      if (entry !== undefined && entry.type === 'file' && existing?.type === 'file') {
        this.entries.set(path, {
          ...entry,
          mode: existing.mode,
          uid: existing.uid,
          gid: existing.gid,
        });
      }
    } else if (action === 'keep-dist') {
      this.install(member, `${path}.dpkg-dist`);
    }
  }

  // TODO: record `remove-on-upgrade` entries in `Conffiles` as dpkg does; without them a later
  // dpkg run does not know the removed conffile belonged to the package.
  removeConffile(path: string, oldConffiles: readonly ConffileRecord[], raw: string): void {
    const old = oldConffiles.find((c) => c.path === raw);
    const existing = this.view.get(path);
    if (old === undefined || existing?.content === undefined) return;
    const current = createHash('md5').update(existing.content).digest('hex');
    if (current !== old.md5) {
      this.entries.set(`${path}.dpkg-old`, {
        path: `${path}.dpkg-old`,
        type: 'file',
        mode: existing.mode,
        uid: existing.uid,
        gid: existing.gid,
        content: { kind: 'bytes', bytes: existing.content },
      });
    }
    this.whiteouts.add(path);
  }

  /** Writes hard links once their targets are known; a target not in this layer is copied. */
  finishHardlinks(): void {
    for (const { member, path, target } of this.#hardlinks) {
      const targetPath = this.view.canonicalKnown(toTreePath(target));
      const entry = this.entries.get(targetPath);
      const attrs = this.attributes(member, path);
      if (entry?.type === 'file') {
        this.entries.set(path, { ...attrs, type: 'hardlink', target: targetPath });
      } else if (member.content !== undefined) {
        const content = member.content;
        const file = { kind: 'path', path: content.path, size: content.sizeBytes } as const;
        this.entries.set(path, { ...attrs, type: 'file', content: file });
      }
    }
  }

  deferExcludedDirectory(path: string, member: DataMember): void {
    this.#excludedDirs.set(path, member);
  }

  /** Excluded directories are still created when an included entry lies below them. */
  addExcludedParents(): void {
    const needed = new Set<string>();
    for (const path of this.entries.keys()) for (const p of parentPrefixes(path)) needed.add(p);
    for (const [path, member] of this.#excludedDirs) {
      if (needed.has(path)) this.install(member, path);
    }
  }
}

/**
 * Decides which files of old versions to remove (`pkg_remove_old_files`): a path still owned by
 * another package or by a new version stays; a directory goes only when nothing is left in it.
 */
class RemovalPlanner {
  readonly #view: TreeView;
  readonly #state: UnpackState;
  readonly #owners: ReadonlyMap<string, Owner[]>;
  readonly #kept: ReadonlySet<string>;
  readonly #files = new Set<string>();
  readonly #dirs = new Set<string>();

  constructor(view: TreeView, state: UnpackState, owners: Map<string, Owner[]>, kept: Set<string>) {
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
