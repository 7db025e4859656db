/**
 * The daemonless Debian/Ubuntu engine: plans an `apt-get install --only-upgrade` against the
 * image's dpkg database and signed repositories, unpacks the packages without running anything
 * from the image, and returns the entries of one layer that leaves the file system and the
 * database as dpkg would.
 *
 * @example
 * const patch = await patchDpkg({ tree, request, cacheDir, workDir });
 * for (const entry of patch.entries) console.log(entry.type, entry.path);
 */
import { CopaError } from '../../errors.js';
import type { LayerEntry } from '../../layer/types.js';
import { silentLogger, type Logger } from '../../log.js';
import type { FileTree, PackagePatch, PackagePatchOptions, UpdatedPackage } from '../types.js';
import {
  aptConfigPaths,
  openRepositories,
  parseSourceField,
  readAptConfig,
  type AptRepositories,
  type MirrorSettings,
  type OpenRepositoriesOptions,
  type OsRelease,
  type RepositoryOverrides,
} from './apt/index.js';
import { databaseEntries, EXTENDED_STATES } from './database-entries.js';
import {
  ADMIN_DIR,
  installedEntries,
  isDatabasePath,
  nativeArchitecture,
  parseDpkgDatabase,
  text,
  type DpkgDatabase,
  type InstalledPackage,
} from './dpkg-database.js';
import {
  parseDiversions,
  parseIdFile,
  parsePathFilters,
  parseStatOverrides,
} from './install-rules.js';
import { scriptsNotRun } from './maintainer-scripts.js';
import { preparePackages } from './prepare-packages.js';
import type { PreparedPackage } from './prepared-package.js';
import { resolveUpgrade } from './resolve.js';
import { infoKey, parseConffiles } from './status-database.js';
import { parentPrefixes, toTreePath, TreeView } from './tree-view.js';
import { oldFileList } from './file-owners.js';
import { unpackPackages, type InstallRules } from './unpack-packages.js';
import { fieldValue } from './control.js';
import { parseConffilesMember } from './conffiles.js';

export { compareDebianVersions } from './version.js';
export { isDatabasePath as isDpkgDatabasePath } from './dpkg-database.js';

/** Options of {@link patchDpkg}. */
export interface DpkgPatchOptions extends PackagePatchOptions {
  /** The image's dpkg architecture; default read from the database. */
  readonly arch?: string;
  /** User settings that change the image's sources (mirrors, extra suites, keyrings). */
  readonly aptOverrides?: RepositoryOverrides;
  /** Mirrors for images without sources; default from the environment, config file or host. */
  readonly mirrors?: MirrorSettings;
  /** Further options for opening the repositories (index cache, dispatcher, host root). */
  readonly repositoryOptions?: Partial<OpenRepositoriesOptions>;
  /** Repositories already opened for this image; when given, the image's sources are not read. */
  readonly repositories?: AptRepositories;
}

const OS_RELEASE = ['etc/os-release', 'usr/lib/os-release'];
const INFO = `${ADMIN_DIR}/info`;

/** Reports which dpkg database layout the image has, or `undefined` when it has none. */
export async function detectDpkg(tree: FileTree): Promise<'status' | 'status.d' | undefined> {
  const files = await tree.readFiles(isDatabasePath);
  return parseDpkgDatabase(files)?.layout;
}

/** An installed package as the database records it. */
export interface InstalledDpkgPackage {
  readonly name: string;
  readonly arch: string;
  readonly version: string;
  /** The source package name and version (defaults: the binary's). */
  readonly source: string;
  readonly sourceVersion: string;
  /** `install`, `hold`… */
  readonly want: string;
}

/**
 * Reads the installed packages (files on disk) from the image's database, for verification
 * after patching. Throws `PACKAGE_DATABASE_MISSING` when there is none.
 */
export async function readInstalledPackages(tree: FileTree): Promise<InstalledDpkgPackage[]> {
  const db = parseDpkgDatabase(await tree.readFiles(isDatabasePath));
  if (db === undefined) throw missingDatabase();
  return installedEntries(db).map((e) => {
    const source = parseSourceField(fieldValue(e.stanza, 'Source'), e);
    const { name, arch, version, want } = e;
    return { name, arch, version, source: source.name, sourceVersion: source.version, want };
  });
}

function missingDatabase(): CopaError {
  return new CopaError(
    'PACKAGE_DATABASE_MISSING',
    'reading the dpkg database: the image has neither "/var/lib/dpkg/status" nor "/var/lib/dpkg/status.d"',
    { hint: 'Only images with a dpkg database can be patched as Debian or Ubuntu images.' },
  );
}

/**
 * Plans and unpacks the updates of one Debian or Ubuntu image. Packages without a fixed
 * version, or whose closure cannot be satisfied, are reported in `failed`; the others are
 * patched. Throws `PACKAGE_DATABASE_MISSING`, `PACKAGE_DATABASE_INVALID`, the repositories'
 * errors (`REPOSITORY_*`), `PACKAGE_INVALID` for a damaged package and `PATCH_FAILED` for a file
 * conflict between packages.
 */
export async function patchDpkg(options: DpkgPatchOptions): Promise<PackagePatch> {
  const logger = options.logger ?? silentLogger;
  const view = new TreeView(options.tree);
  await view.load(OS_RELEASE, (p) => isDatabasePath(p) || isListFile(p) || aptConfigPaths(p));
  const db = parseDpkgDatabase(new Map([...view.files(isDatabasePath)].map((f) => [f.path, f])));
  if (db === undefined) throw missingDatabase();
  const arch = options.arch ?? nativeArchitecture(db);
  if (arch === undefined) {
    throw new CopaError('PACKAGE_DATABASE_INVALID', 'reading the dpkg database: no architecture', {
      hint: 'Pass the platform of the image explicitly.',
    });
  }
  const repositories = options.repositories ?? (await openImageRepositories(view, arch, options));
  const plan = resolveUpgrade({
    installed: installedEntries(db),
    repositories,
    request: options.request,
    nativeArch: arch,
    logger,
  });
  // Failures are returned in `failed`, for the caller to report once; here they are only detail.
  for (const f of plan.failed) logger.debug(`not updating "${f.name}": ${f.reason}`);
  for (const p of plan.packages) {
    const from = p.old === undefined ? 'new' : p.old.version;
    logger.debug(`planned "${p.record.name}" ${from} -> ${p.record.version} (${p.reason})`);
  }
  const base = { failed: plan.failed, held: plan.held };
  if (plan.packages.length === 0) return { ...base, entries: [], updated: [], scriptsNotRun: [] };

  options.signal?.throwIfAborted();
  const installed = new Map<string, InstalledPackage>();
  for (const p of db.packages) installed.set(`${p.entry.name}:${p.entry.arch}`, p);
  const packages = await preparePackages({
    planned: plan.packages,
    repositories,
    installed,
    workDir: options.workDir,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  options.signal?.throwIfAborted();
  await loadUnpackInputs(view, db, packages);
  const rules = readRules(view);
  const unpacked = await unpackPackages({
    db,
    view,
    packages,
    rules,
    logger,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const dbFiles = databaseEntries({
    db,
    view,
    unpacked: unpacked.packages,
    rewrittenLists: unpacked.rewrittenLists,
    disappeared: unpacked.disappeared,
    nativeArch: arch,
    logger,
  });
  warnTriggerChanges(view, packages, logger);
  // TODO: regenerate /etc/ssl/certs (bundle and hash links) after a ca-certificates update, and
  // ld.so.cache when a new soname appears outside the default paths; until then certificates the
  // package removed stay trusted and such libraries are found only after `ldconfig`.
  logger.info(`unpacked ${packages.length} packages for ${arch}`);
  return {
    ...base,
    entries: layerEntries(unpacked.entries, unpacked.whiteouts, dbFiles),
    updated: packages.map(toUpdated),
    scriptsNotRun: packages.flatMap((pkg) => {
      const scripts = scriptsNotRun(pkg.control);
      return scripts.length === 0 ? [] : [{ name: pkg.name, scripts }];
    }),
  };
}

async function openImageRepositories(
  view: TreeView,
  arch: string,
  options: DpkgPatchOptions,
): Promise<AptRepositories> {
  const osRelease = parseOsRelease(OS_RELEASE.map((p) => text(view.get(p))).find(Boolean));
  // The first pass read the files readAptConfig selects first; serve those from the view.
  const tree: FileTree = {
    readFiles: async (select) =>
      select === aptConfigPaths
        ? new Map([...view.files(aptConfigPaths)].map((f) => [f.path, f]))
        : options.tree.readFiles(select),
  };
  const config = await readAptConfig(tree, { osRelease });
  const foreign = text(view.get(`${ADMIN_DIR}/arch`))
    ?.split('\n')
    .map((l) => l.trim())
    .filter((a) => a !== '' && a !== arch);
  return openRepositories(config, {
    ...options.repositoryOptions,
    arch,
    cacheDir: options.cacheDir,
    ...(foreign && foreign.length > 0 ? { foreignArchitectures: foreign } : {}),
    ...(options.aptOverrides ? { overrides: options.aptOverrides } : {}),
    ...(options.mirrors ? { mirrors: options.mirrors } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** Parses `os-release` (`KEY=value` lines, values optionally quoted). */
export function parseOsRelease(content: string | undefined): OsRelease {
  const values = new Map<string, string>();
  for (const line of (content ?? '').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) values.set(m[1], m[2].replace(/^(["'])(.*)\1$/, '$2'));
  }
  const versionId = values.get('VERSION_ID');
  const versionCodename = values.get('VERSION_CODENAME');
  return {
    id: (values.get('ID') ?? '').toLowerCase(),
    ...(versionId ? { versionId } : {}),
    ...(versionCodename ? { versionCodename } : {}),
  };
}

/** Second pass: info files, the image's rules, conffiles and parent directories. */
async function loadUnpackInputs(
  view: TreeView,
  db: DpkgDatabase,
  packages: readonly PreparedPackage[],
): Promise<void> {
  const oldKeys = new Set(
    packages.flatMap((p) => [infoKey(p), ...(p.old ? [infoKey(p.old.entry)] : [])]),
  );
  const paths = new Set<string>([
    `${ADMIN_DIR}/diversions`,
    `${ADMIN_DIR}/statoverride`,
    'etc/passwd',
    'etc/group',
    'etc/dpkg/dpkg.cfg',
    EXTENDED_STATES,
  ]);
  for (const pkg of packages) {
    for (const m of pkg.members) for (const p of parentPrefixes(toTreePath(m.path))) paths.add(p);
    for (const c of parseConffilesMember(controlString(pkg, 'conffiles'))) {
      paths.add(toTreePath(c.path));
    }
    const old = pkg.old?.entry;
    for (const c of parseConffiles(old ? fieldValue(old.stanza, 'Conffiles') : undefined)) {
      paths.add(toTreePath(c.path));
    }
    if (pkg.old === undefined) continue;
    const list = oldFileList(view, db, { key: infoKey(pkg.old.entry), ...pkg.old }) ?? [];
    for (const p of list) for (const prefix of parentPrefixes(toTreePath(p))) paths.add(prefix);
  }
  await view.load(paths, (p) => {
    if (p.startsWith('etc/dpkg/dpkg.cfg.d/')) return true;
    if (db.layout !== 'status' || !p.startsWith(`${INFO}/`)) return false;
    const name = p.slice(INFO.length + 1);
    if (name.endsWith('.list')) return false;
    const dot = name.lastIndexOf('.');
    return dot > 0 && oldKeys.has(name.slice(0, dot));
  });
}

/** `info/*.list`: read with the database, as every package's file list decides ownership. */
function isListFile(path: string): boolean {
  return (
    path.startsWith(`${INFO}/`) && path.endsWith('.list') && !path.includes('/', INFO.length + 1)
  );
}

function controlString(pkg: PreparedPackage, name: string): string | undefined {
  const member = pkg.control.get(name);
  return member === undefined ? undefined : Buffer.from(member.bytes).toString('utf8');
}

function readRules(view: TreeView): InstallRules {
  const ids = {
    users: parseIdFile(text(view.get('etc/passwd'))),
    groups: parseIdFile(text(view.get('etc/group'))),
  };
  const configs = [...view.files((p) => p.startsWith('etc/dpkg/dpkg.cfg.d/'))]
    .filter((f) => f.type === 'file')
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  const main = text(view.get('etc/dpkg/dpkg.cfg'));
  return {
    diversions: parseDiversions(text(view.get(`${ADMIN_DIR}/diversions`))),
    overrides: parseStatOverrides(text(view.get(`${ADMIN_DIR}/statoverride`)), ids),
    ids,
    excluded: parsePathFilters([main ?? '', ...configs.map((f) => text(f) ?? '')]),
  };
}

function oldScripts(view: TreeView, pkg: PreparedPackage): Map<string, string> {
  const out = new Map<string, string>();
  if (pkg.old === undefined) return out;
  const key = infoKey(pkg.old.entry);
  for (const name of ['prerm', 'postrm', 'triggers']) {
    const content = text(view.get(`${INFO}/${key}.${name}`));
    if (content !== undefined) out.set(name, content);
  }
  return out;
}

/** Interests in triggers changed: the trigger database is not rewritten. */
function warnTriggerChanges(view: TreeView, packages: readonly PreparedPackage[], logger: Logger) {
  for (const pkg of packages) {
    const interests = (t: string | undefined): string =>
      (t ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.startsWith('interest'))
        .sort()
        .join('\n');
    const before = interests(oldScripts(view, pkg).get('triggers'));
    const after = interests(controlString(pkg, 'triggers'));
    // TODO: rewrite var/lib/dpkg/triggers/File and triggers/<name> when interests change; until
    // then a package whose trigger interests changed is not triggered by later dpkg runs.
    if (before !== after) logger.warn(`"${pkg.name}" changed its trigger interests; not recorded`);
  }
}

function toUpdated(pkg: PreparedPackage): UpdatedPackage {
  return {
    name: pkg.name,
    arch: pkg.arch,
    fromVersion: pkg.old?.entry.version,
    toVersion: pkg.version,
  };
}

function layerEntries(
  files: ReadonlyMap<string, LayerEntry>,
  whiteouts: ReadonlySet<string>,
  db: { entries: readonly LayerEntry[]; whiteouts: readonly string[] },
): LayerEntry[] {
  const byPath = new Map(files);
  for (const e of db.entries) byPath.set(e.path, e);
  const out = [...byPath.values()];
  for (const path of new Set([...whiteouts, ...db.whiteouts])) {
    if (!byPath.has(path)) out.push({ type: 'whiteout', path });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
