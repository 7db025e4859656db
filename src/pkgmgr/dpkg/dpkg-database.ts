/**
 * Locating and reading the image's dpkg database: the classic `var/lib/dpkg/status` with
 * `info/`, or the distroless `var/lib/dpkg/status.d/<name>` (+ `.md5sums`) layout.
 */
import { CopaError } from '../../errors.js';
import type { TreeFile } from '../types.js';
import { parseControl } from './control.js';
import { isInstalled, parseStatus, toStatusEntry, type StatusEntry } from './status-database.js';

export const ADMIN_DIR = 'var/lib/dpkg';
export const STATUS_PATH = `${ADMIN_DIR}/status`;
export const STATUS_D = `${ADMIN_DIR}/status.d`;

/** One installed package instance and where its stanza lives. */
export interface InstalledPackage {
  readonly entry: StatusEntry;
  /** Distroless: the `status.d` file name of its stanza (the image's own naming is kept). */
  readonly statusFile?: string;
}

/** The image's dpkg database as read from the first pass over the tree. */
export interface DpkgDatabase {
  readonly layout: 'status' | 'status.d';
  /** Every stanza (all states), in file order. */
  readonly packages: readonly InstalledPackage[];
  /** The raw `status` file (classic layout) and its attributes. */
  readonly statusFile?: TreeFile;
  /** Distroless: whether the image's stanzas carry a `Status` field. */
  readonly statusDWithStatus?: boolean;
  /** Native architecture from `var/lib/dpkg/arch`, when the image has that file. */
  readonly archFile?: string;
}

/** Selects the files {@link parseDpkgDatabase} needs. */
export function isDatabasePath(path: string): boolean {
  return (
    path === STATUS_PATH ||
    path === `${ADMIN_DIR}/arch` ||
    (path.startsWith(`${STATUS_D}/`) && !path.slice(STATUS_D.length + 1).includes('/'))
  );
}

/**
 * Builds the database from files selected with {@link isDatabasePath}, or returns `undefined`
 * when there is none. Throws `PACKAGE_DATABASE_INVALID` naming the file on a syntax error.
 */
export function parseDpkgDatabase(files: ReadonlyMap<string, TreeFile>): DpkgDatabase | undefined {
  const archText = text(files.get(`${ADMIN_DIR}/arch`));
  const archFile = archText?.split('\n')[0]?.trim() || undefined;
  const status = files.get(STATUS_PATH);
  if (status?.type === 'file') {
    const packages = parseFile(STATUS_PATH, text(status) ?? '', parseStatus).map((entry) => ({
      entry,
    }));
    return { layout: 'status', packages, statusFile: status, ...(archFile ? { archFile } : {}) };
  }
  const stanzaFiles = [...files.values()].filter(
    (f) => f.path.startsWith(`${STATUS_D}/`) && f.type === 'file' && !f.path.endsWith('.md5sums'),
  );
  if (stanzaFiles.length === 0) return undefined;
  const packages: InstalledPackage[] = [];
  let withStatus = 0;
  for (const file of stanzaFiles.sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const name = file.path.slice(STATUS_D.length + 1);
    const stanzas = parseFile(file.path, text(file) ?? '', parseControl);
    for (const stanza of stanzas) {
      const entry = parseFile(file.path, '', () => toStatusEntry(stanza));
      if (stanza.fields.some((f) => f.name.toLowerCase() === 'status')) withStatus += 1;
      packages.push({ entry, statusFile: name });
    }
  }
  return {
    layout: 'status.d',
    packages,
    statusDWithStatus: withStatus * 2 > packages.length,
    ...(archFile ? { archFile } : {}),
  };
}

function parseFile<T>(path: string, content: string, parse: (text: string) => T): T {
  try {
    return parse(content);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CopaError('PACKAGE_DATABASE_INVALID', `reading "/${path}": ${reason}`, {
      cause: err,
      hint: 'The image has a damaged dpkg database; repair it in the image build.',
    });
  }
}

/** Decodes a tree file's content as UTF-8 (`undefined` for non-files). */
export function text(file: TreeFile | undefined): string | undefined {
  if (file?.content === undefined) return undefined;
  return Buffer.from(file.content).toString('utf8');
}

/** The installed instances (files on disk), as dependencies see them. */
export function installedEntries(db: DpkgDatabase): StatusEntry[] {
  return db.packages.map((p) => p.entry).filter(isInstalled);
}

/**
 * The image's native dpkg architecture: the `arch` file, else that of `dpkg` or `base-files`,
 * else the most common architecture other than `all`.
 */
export function nativeArchitecture(db: DpkgDatabase): string | undefined {
  if (db.archFile !== undefined) return db.archFile;
  const entries = installedEntries(db);
  for (const name of ['dpkg', 'base-files', 'libc6']) {
    const arch = entries.find((e) => e.name === name && e.arch !== 'all')?.arch;
    if (arch) return arch;
  }
  const counts = new Map<string, number>();
  for (const e of entries)
    if (e.arch !== 'all' && e.arch !== '') counts.set(e.arch, (counts.get(e.arch) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}
