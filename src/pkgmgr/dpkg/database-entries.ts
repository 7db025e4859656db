/**
 * The dpkg database files of the patch layer: `status` (or distroless `status.d/*`), the info
 * files of every installed version, and apt's auto-installed marks for new dependencies.
 */
import type { LayerEntry } from '../../layer/types.js';
import type { Logger } from '../../log.js';
import { ADMIN_DIR, STATUS_D, STATUS_PATH, text, type DpkgDatabase } from './dpkg-database.js';
import { controlText, type PreparedPackage } from './prepared-package.js';
import {
  buildStatusStanza,
  formatStatus,
  infoKey,
  isInstalled,
  type StanzaText,
} from './status-database.js';
import type { TreeView } from './tree-view.js';
import type { UnpackedPackage } from './unpack-packages.js';

const INFO = `${ADMIN_DIR}/info`;
export const EXTENDED_STATES = 'var/lib/apt/extended_states';

export interface DatabaseEntriesOptions {
  readonly db: DpkgDatabase;
  readonly view: TreeView;
  readonly unpacked: readonly UnpackedPackage[];
  /** Other packages' lists with taken-over paths removed, by info key. */
  readonly rewrittenLists: ReadonlyMap<string, readonly string[]>;
  /** Info keys of packages that disappear (all their files taken over). */
  readonly disappeared: ReadonlySet<string>;
  /** The native architecture, which apt records for `Architecture: all` packages. */
  readonly nativeArch: string;
  readonly logger: Logger;
}

export interface DatabaseEntries {
  readonly entries: LayerEntry[];
  readonly whiteouts: string[];
}

/** Builds the database entries (see the module comment). */
export function databaseEntries(options: DatabaseEntriesOptions): DatabaseEntries {
  const out: DatabaseEntries = { entries: [], whiteouts: [] };
  if (options.db.layout === 'status') {
    for (const u of options.unpacked) infoEntries(options, u, out);
    for (const [key, list] of options.rewrittenLists) {
      out.entries.push(generated(`${INFO}/${key}.list`, listText(list), options.view));
    }
    for (const key of options.disappeared) {
      for (const file of options.view.files((p) => isInfoFileOf(p, key))) {
        out.whiteouts.push(file.path);
      }
    }
    out.entries.push(...statusEntries(options));
  } else {
    for (const u of options.unpacked) statusDEntries(options, u, out);
  }
  const marks = extendedStates(options);
  if (marks !== undefined) out.entries.push(marks);
  return out;
}

function isInfoFileOf(path: string, key: string): boolean {
  const prefix = `${INFO}/${key}.`;
  return path.startsWith(prefix) && /^[^./]+$/.test(path.slice(prefix.length));
}

function listText(list: readonly string[]): string {
  return list.map((p) => `${p}\n`).join('');
}

/** A generated file: the attributes of the file it replaces, else 0644 root. */
function generated(path: string, content: string | Uint8Array, view: TreeView): LayerEntry {
  const existing = view.get(path);
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return {
    path,
    type: 'file',
    mode: existing?.type === 'file' ? existing.mode : 0o644,
    uid: existing?.uid ?? 0,
    gid: existing?.gid ?? 0,
    content: { kind: 'bytes', bytes },
  };
}

/**
 * `md5sums` of the package, or generated as dpkg does for packages without one: the files it
 * wrote (filtered ones left out), conffiles included, in archive order.
 */
function md5sums(u: UnpackedPackage): Uint8Array | undefined {
  const { pkg } = u;
  const member = pkg.control.get('md5sums');
  if (member !== undefined) return member.bytes;
  const lines = pkg.members
    .filter((m) => m.type === 'file' || m.type === 'hardlink')
    .filter((m) => m.content !== undefined && !u.filtered.has(m.path))
    .map((m) => `${m.content!.md5}  ${m.path.slice(1)}\n`);
  return lines.length === 0 ? undefined : Buffer.from(lines.join(''), 'utf8');
}

/** Control members dpkg keeps in `info/`: not `control`, no dot in the name, not `list`. */
function infoMembers(pkg: PreparedPackage): string[] {
  return [...pkg.control.keys()].filter(
    (n) => n !== 'control' && n !== 'list' && !n.includes('.') && !n.includes('/'),
  );
}

function infoEntries(options: DatabaseEntriesOptions, u: UnpackedPackage, out: DatabaseEntries) {
  const { pkg } = u;
  const key = infoKey(pkg);
  const written = new Set<string>();
  const add = (entry: LayerEntry): void => {
    out.entries.push(entry);
    written.add(entry.path);
  };
  add(generated(`${INFO}/${key}.list`, listText(u.list), options.view));
  if (!pkg.control.has('md5sums')) {
    add(generated(`${INFO}/${key}.md5sums`, md5sums(u) ?? new Uint8Array(), options.view));
  }
  for (const name of infoMembers(pkg)) {
    const member = pkg.control.get(name)!;
    add({
      path: `${INFO}/${key}.${name}`,
      type: 'file',
      mode: member.mode,
      uid: 0,
      gid: 0,
      mtime: member.mtime,
      content: { kind: 'bytes', bytes: member.bytes },
    });
  }
  // Info files of the old version, or of a stanza left in `config-files` state, that the new
  // version does not ship.
  const keys = new Set([key, ...(pkg.old ? [infoKey(pkg.old.entry)] : [])]);
  const stale = options.view.files((p) => [...keys].some((k) => isInfoFileOf(p, k)));
  for (const file of stale) if (!written.has(file.path)) out.whiteouts.push(file.path);
}

function statusEntries(options: DatabaseEntriesOptions): LayerEntry[] {
  const { db, unpacked, view } = options;
  const replaced = new Map<string, UnpackedPackage>();
  for (const u of unpacked) if (u.pkg.old !== undefined) replaced.set(infoKey(u.pkg.old.entry), u);
  const stanzas: StanzaText[] = [];
  // A new install replaces a stanza left in `config-files` or `not-installed` state.
  const added = new Set(
    unpacked.filter((u) => u.pkg.old === undefined).map((u) => `${u.pkg.name}:${u.pkg.arch}`),
  );
  for (const { entry } of db.packages) {
    const key = infoKey(entry);
    if (replaced.has(key) || options.disappeared.has(key)) continue;
    if (!isInstalled(entry) && added.has(`${entry.name}:${entry.arch}`)) continue;
    stanzas.push({ ...entry, text: entry.stanza.raw });
  }
  for (const u of unpacked) stanzas.push(newStanza(u));
  const oldText = text(db.statusFile) ?? '';
  const entries = [generated(STATUS_PATH, formatStatus(stanzas), view)];
  entries.push(generated(`${STATUS_PATH}-old`, oldText, view));
  return entries;
}

function newStanza(u: UnpackedPackage): StanzaText {
  const { pkg } = u;
  const want = pkg.old?.entry.want === 'hold' ? 'hold' : 'install';
  return {
    name: pkg.name,
    arch: pkg.arch,
    multiArch: pkg.multiArch,
    text: buildStatusStanza({
      control: pkg.controlFields,
      status: `${want} ok installed`,
      conffiles: u.conffiles,
    }),
  };
}

// TODO: remove files taken over by another package from the old owner's `status.d/*.md5sums`;
// until then scanners list such a file under both packages.
function statusDEntries(options: DatabaseEntriesOptions, u: UnpackedPackage, out: DatabaseEntries) {
  const { pkg } = u;
  const file = pkg.old?.statusFile ?? pkg.name;
  const stanza = options.db.statusDWithStatus
    ? newStanza(u).text
    : (controlText(pkg, 'control') ?? newStanza(u).text);
  out.entries.push(generated(`${STATUS_D}/${file}`, stanza, options.view));
  const sums = md5sums(u);
  if (sums !== undefined)
    out.entries.push(generated(`${STATUS_D}/${file}.md5sums`, sums, options.view));
  else if (options.view.get(`${STATUS_D}/${file}.md5sums`) !== undefined) {
    out.whiteouts.push(`${STATUS_D}/${file}.md5sums`);
  }
}

/** Appends `Auto-Installed: 1` marks for newly installed dependencies, as apt does. */
function extendedStates(options: DatabaseEntriesOptions): LayerEntry | undefined {
  const added = options.unpacked.filter((u) => u.pkg.old === undefined);
  if (added.length === 0 || options.db.layout !== 'status') return undefined;
  const current = text(options.view.get(EXTENDED_STATES)) ?? '';
  const stanzas = added.map(({ pkg }) => {
    const arch = pkg.arch === 'all' ? options.nativeArch : pkg.arch;
    return `Package: ${pkg.name}\nArchitecture: ${arch}\nAuto-Installed: 1\n`;
  });
  const base = current === '' || current.endsWith('\n\n') ? current : `${current}\n`;
  return generated(EXTENDED_STATES, `${base}${stanzas.join('\n')}\n`, options.view);
}
