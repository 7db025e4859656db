/**
 * The dpkg status database (`var/lib/dpkg/status`): reading stanzas and writing them back
 * exactly as dpkg does (canonical field order, normalised relationship fields, sorted stanzas).
 */
import {
  fieldValue,
  formatField,
  parseControl,
  type ControlField,
  type Stanza,
} from './control.js';
import { formatRelations, parseRelations } from './apt/relations.js';

/** dpkg's field order in `status`; unknown fields follow in their control-file order. */
const FIELD_ORDER = [
  'Package',
  'Essential',
  'Protected',
  'Status',
  'Priority',
  'Section',
  'Installed-Size',
  'Origin',
  'Maintainer',
  'Bugs',
  'Architecture',
  'Multi-Arch',
  'Source',
  'Version',
  'Config-Version',
  'Replaces',
  'Provides',
  'Depends',
  'Pre-Depends',
  'Recommends',
  'Suggests',
  'Breaks',
  'Conflicts',
  'Enhances',
  'Conffiles',
  'Description',
  'Triggers-Pending',
  'Triggers-Awaited',
];

const RELATION_FIELDS = new Set(
  ['Replaces', 'Provides', 'Depends', 'Pre-Depends', 'Recommends', 'Suggests', 'Breaks']
    .concat(['Conflicts', 'Enhances'])
    .map((f) => f.toLowerCase()),
);

/** Known fields dpkg never writes to `status`, or writes only in intermediate states. */
const DROPPED_FIELDS = new Set(
  ['Filename', 'Size', 'MD5sum', 'MSDOS-Filename', 'Status', 'Conffiles', 'Config-Version']
    .concat(['Triggers-Pending', 'Triggers-Awaited', 'SHA256', 'SHA1', 'SHA512'])
    .concat(['Description-md5'])
    .map((f) => f.toLowerCase()),
);

const ORDER_INDEX = new Map(FIELD_ORDER.map((name, i) => [name.toLowerCase(), i]));

/** One package instance of the status database. */
export interface StatusEntry {
  readonly stanza: Stanza;
  readonly name: string;
  readonly arch: string;
  readonly version: string;
  readonly multiArch: string | undefined;
  /** `unknown`, `install`, `hold`, `deinstall` or `purge`. */
  readonly want: string;
  readonly eflag: string;
  /** `installed`, `config-files`, `unpacked`… */
  readonly state: string;
}

/** One line of a `Conffiles` field. */
export interface ConffileRecord {
  /** Absolute path as the package names it. */
  readonly path: string;
  readonly md5: string;
  readonly obsolete?: boolean;
  readonly removeOnUpgrade?: boolean;
}

/** Parses a status file; throws `SyntaxError` when a stanza has no `Package` field. */
export function parseStatus(text: string): StatusEntry[] {
  return parseControl(text).map(toStatusEntry);
}

/** Reads the identity and status of one stanza. */
export function toStatusEntry(stanza: Stanza): StatusEntry {
  const name = fieldValue(stanza, 'Package');
  if (name === undefined || name === '') throw new SyntaxError('a stanza has no "Package" field');
  const [want = 'install', eflag = 'ok', state = 'installed'] = (
    fieldValue(stanza, 'Status') ?? 'install ok installed'
  ).split(/\s+/);
  return {
    stanza,
    name,
    arch: fieldValue(stanza, 'Architecture') ?? '',
    version: fieldValue(stanza, 'Version') ?? '',
    multiArch: fieldValue(stanza, 'Multi-Arch'),
    want,
    eflag,
    state,
  };
}

/** Reports whether the instance has files on disk and counts as installed for dependencies. */
export function isInstalled(entry: StatusEntry): boolean {
  return entry.state !== 'not-installed' && entry.state !== 'config-files';
}

/** The info-file key: `name:arch` for `Multi-Arch: same` packages, else `name`. */
export function infoKey(entry: { name: string; arch: string; multiArch: string | undefined }) {
  return entry.multiArch === 'same' ? `${entry.name}:${entry.arch}` : entry.name;
}

/** Parses a `Conffiles` field value. */
export function parseConffiles(value: string | undefined): ConffileRecord[] {
  if (value === undefined) return [];
  const records: ConffileRecord[] = [];
  for (const line of value.split('\n')) {
    const [path, md5, ...flags] = line.trim().split(/\s+/);
    if (path === undefined || path === '' || md5 === undefined) continue;
    records.push({
      path,
      md5,
      ...(flags.includes('obsolete') ? { obsolete: true } : {}),
      ...(flags.includes('remove-on-upgrade') ? { removeOnUpgrade: true } : {}),
    });
  }
  return records;
}

function formatConffiles(records: readonly ConffileRecord[]): string {
  return records
    .map((r) => {
      const flags = `${r.obsolete === true ? ' obsolete' : ''}`;
      return `\n ${r.path} ${r.md5}${flags}${r.removeOnUpgrade === true ? ' remove-on-upgrade' : ''}`;
    })
    .join('');
}

/** What {@link buildStatusStanza} needs besides the new control file. */
export interface StatusStanzaOptions {
  /** Fields of the new package's `control` member. */
  readonly control: readonly ControlField[];
  /** The `Status` field, normally `install ok installed` (`hold ok installed` when held). */
  readonly status: string;
  readonly conffiles: readonly ConffileRecord[];
}

/**
 * Builds the status stanza dpkg writes after installing a package: its control fields in dpkg's
 * order, relationship fields re-spelled, `Status` and `Conffiles` added, index-only fields left
 * out.
 */
export function buildStatusStanza(options: StatusStanzaOptions): string {
  const known: ControlField[] = [];
  const arbitrary: ControlField[] = [];
  for (const field of options.control) {
    const lower = field.name.toLowerCase();
    if (DROPPED_FIELDS.has(lower)) continue;
    if ((lower === 'essential' || lower === 'protected') && field.value !== 'yes') continue;
    const value = RELATION_FIELDS.has(lower)
      ? formatRelations(parseRelations(field.value))
      : field.value;
    const canonical = FIELD_ORDER[ORDER_INDEX.get(lower) ?? -1];
    if (canonical === undefined) arbitrary.push(field);
    else known.push({ name: canonical, value });
  }
  known.push({ name: 'Status', value: options.status });
  if (options.conffiles.length > 0) {
    known.push({ name: 'Conffiles', value: formatConffiles(options.conffiles) });
  }
  known.sort((a, b) => order(a.name) - order(b.name));
  return [...known, ...arbitrary].map(formatField).join('');
}

function order(name: string): number {
  return ORDER_INDEX.get(name.toLowerCase()) ?? FIELD_ORDER.length;
}

/** One stanza to write: its text (ending in `\n`, without the blank separator line) and identity. */
export interface StanzaText {
  readonly name: string;
  readonly arch: string;
  readonly multiArch: string | undefined;
  readonly text: string;
}

/**
 * Writes a status file as dpkg does: stanzas sorted by package name, an unqualified instance
 * before qualified ones, qualified instances by architecture, each followed by a blank line.
 */
export function formatStatus(stanzas: readonly StanzaText[]): string {
  const sorted = [...stanzas].sort(compareStanzas);
  return sorted.map((s) => `${s.text}\n`).join('');
}

function compareStanzas(a: StanzaText, b: StanzaText): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  const qa = a.multiArch === 'same' ? 1 : 0;
  const qb = b.multiArch === 'same' ? 1 : 0;
  if (qa !== qb) return qa - qb;
  if (a.arch === b.arch) return 0;
  return a.arch < b.arch ? -1 : 1;
}
