/**
 * Who owns which path: the file lists of installed packages (`info/<key>.list`, or distroless
 * `status.d/<file>.md5sums`), keyed by canonical tree path, and the `Replaces` rules that let a
 * new version take a file over.
 */
import { satisfiesVersion, tryParseRelations, type RelationGroups } from './apt/relations.js';
import { fieldValue } from './control.js';
import { ADMIN_DIR, STATUS_D, text, type DpkgDatabase } from './dpkg-database.js';
import { infoKey, isInstalled } from './status-database.js';
import { toTreePath, type TreeView } from './tree-view.js';

const INFO = `${ADMIN_DIR}/info`;

/** An installed package that lists a path. */
export interface FileOwner {
  readonly key: string;
  readonly name: string;
  readonly arch: string;
  readonly version: string;
  readonly replaces: RelationGroups;
  /** The path as that package lists it. */
  readonly raw: string;
}

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
 * Maps canonical paths to the installed packages listing them, leaving out the packages being
 * changed and those in `config-files` state (dpkg lets any package take their files).
 */
export function collectOtherOwners(
  view: TreeView,
  db: DpkgDatabase,
  changing: ReadonlySet<string>,
): Map<string, FileOwner[]> {
  const owners = new Map<string, FileOwner[]>();
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
export function replacesPackage(replaces: RelationGroups, name: string, version: string): boolean {
  return replaces.some((g) => g.some((r) => r.name === name && satisfiesVersion(version, r)));
}
