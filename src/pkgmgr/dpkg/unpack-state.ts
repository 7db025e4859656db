/**
 * The entries of the patch layer as unpacking decides them, against the image's current state:
 * directories and symlinks left alone where dpkg leaves them, conffiles decided, hard links
 * written after their targets.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';

import type { EntryAttributes, LayerEntry } from '../../layer/types.js';
import { decideConffile } from './conffiles.js';
import { resolveOwner, type Diversion, type IdTables, type StatOverride } from './install-rules.js';
import { spooledFileContent, type DataMember } from './spool-data.js';
import type { ConffileRecord } from './status-database.js';
import { parentPrefixes, toTreePath, type TreeView } from './tree-view.js';

/** The image's rules, read before unpacking. */
export interface InstallRules {
  readonly diversions: ReadonlyMap<string, Diversion>;
  readonly overrides: ReadonlyMap<string, StatOverride>;
  readonly ids: IdTables;
  /** Whether a package path is excluded by `path-exclude` filters. */
  readonly excluded: (path: string) => boolean;
}

/** The entries written so far and the image state they are decided against. */
export class UnpackState {
  readonly entries = new Map<string, LayerEntry>();
  /** Owner names of the archives that the image's passwd or group files do not know. */
  readonly unknownNames = new Set<string>();
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
    if (member.uname && member.uname !== 'root' && !this.rules.ids.users.has(member.uname)) {
      this.unknownNames.add(`user "${member.uname}"`);
    }
    if (member.gname && member.gname !== 'root' && !this.rules.ids.groups.has(member.gname)) {
      this.unknownNames.add(`group "${member.gname}"`);
    }
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
        const content = spooledFileContent(member.content!);
        this.entries.set(path, { ...attrs, type: 'file', content });
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
        const content = spooledFileContent(member.content);
        this.entries.set(path, { ...attrs, type: 'file', content });
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
