/**
 * A `Packages` stanza kept as the few raw fields copa needs, with relation fields parsed on
 * first access.
 */
import { CopaError } from '../../../errors.js';
import { parseRelations, parseSourceField, type RelationGroups } from './relations.js';
import type { MultiArch, PackageRecord, RepositoryOrigin } from './types.js';

/** Lower-case names of the fields kept from each stanza; the rest are dropped while parsing. */
export const KEPT_FIELDS: ReadonlySet<string> = new Set([
  'package',
  'version',
  'architecture',
  'multi-arch',
  'source',
  'essential',
  'protected',
  'priority',
  'section',
  'installed-size',
  'depends',
  'pre-depends',
  'recommends',
  'suggests',
  'enhances',
  'provides',
  'breaks',
  'conflicts',
  'replaces',
  'built-using',
  'filename',
  'size',
  'sha256',
]);

/** The fields a stanza must have to be a downloadable package. */
export const REQUIRED_FIELDS = [
  'package',
  'version',
  'architecture',
  'filename',
  'size',
  'sha256',
] as const;

type RawFields = Record<string, string>;

/** Returns why kept raw fields are not a downloadable package, or `undefined` when they are. */
export function checkStanza(raw: RawFields): string | undefined {
  for (const name of REQUIRED_FIELDS) if (raw[name] === undefined) return `missing "${name}"`;
  const size = Number(raw['size']);
  if (!Number.isSafeInteger(size) || size < 0) return `invalid "Size" "${raw['size']}"`;
  if (!/^[0-9a-f]{64}$/i.test(raw['sha256'] ?? '')) return 'invalid "SHA256"';
  return undefined;
}

/** What a lazy record holds before its first lookup. */
export interface RecordHead {
  readonly name: string;
  /** The raw `Provides` value, so finding providers reads no other field. */
  readonly provides: string | undefined;
  readonly origin: RepositoryOrigin;
  /** Where the stanza lies, for {@link StanzaReader}. */
  readonly start: number;
  readonly end: number;
}

/** Reads the kept fields of the stanza at `[start, end)` of an index's text. */
export type StanzaReader = (start: number, end: number) => RawFields;

/**
 * Builds a record whose fields are read on first use through `read`, which must give fields
 * that passed {@link checkStanza}. Only the head is held until then, so an index of 60,000
 * stanzas costs a few megabytes until a lookup needs one; records of one index share `read`.
 */
export function lazyPackageRecord(
  head: RecordHead,
  read: StanzaReader,
): PackageRecord & { readonly hasProvides: boolean; mayProvide(name: string): boolean } {
  return new IndexRecord(head, read);
}

class IndexRecord implements PackageRecord {
  readonly name: string;
  readonly origin: RepositoryOrigin;
  private readonly providesText: string | undefined;
  private read: StanzaReader | undefined;
  private readonly start: number;
  private readonly end: number;
  private fields: RawFields | undefined;
  private parsed: Map<string, RelationGroups> | undefined;

  constructor(head: RecordHead, read: StanzaReader) {
    this.name = head.name;
    this.providesText = head.provides;
    this.origin = head.origin;
    this.start = head.start;
    this.end = head.end;
    this.read = read;
  }

  get hasProvides(): boolean {
    return this.providesText !== undefined;
  }

  /** False when `Provides` certainly lacks `name`; reads no other field. */
  mayProvide(name: string): boolean {
    return this.providesText?.includes(name) ?? false;
  }

  private get raw(): RawFields {
    if (this.fields === undefined) {
      this.fields = this.read!(this.start, this.end);
      this.read = undefined;
    }
    return this.fields;
  }

  get version(): string {
    return this.raw['version']!;
  }

  get architecture(): string {
    return this.raw['architecture']!;
  }

  get filename(): string {
    return this.raw['filename']!;
  }

  get sizeBytes(): number {
    return Number(this.raw['size']);
  }

  get sha256(): string {
    return this.raw['sha256']!.toLowerCase();
  }

  get multiArch(): MultiArch {
    const v = this.raw['multi-arch'];
    return v === 'same' || v === 'foreign' || v === 'allowed' ? v : 'no';
  }

  get source(): string {
    return parseSourceField(this.raw['source'], this).name;
  }

  get sourceVersion(): string {
    return parseSourceField(this.raw['source'], this).version;
  }

  get essential(): boolean {
    return this.raw['essential'] === 'yes';
  }

  get protected(): boolean {
    return this.raw['protected'] === 'yes';
  }

  get priority(): string | undefined {
    return this.raw['priority'];
  }

  get section(): string | undefined {
    return this.raw['section'];
  }

  get installedSizeKiB(): number | undefined {
    const v = this.raw['installed-size'];
    return v === undefined ? undefined : Number(v);
  }

  get depends(): RelationGroups {
    return this.relations('depends');
  }

  get preDepends(): RelationGroups {
    return this.relations('pre-depends');
  }

  get recommends(): RelationGroups {
    return this.relations('recommends');
  }

  get provides(): RelationGroups {
    return this.relations('provides');
  }

  get breaks(): RelationGroups {
    return this.relations('breaks');
  }

  get conflicts(): RelationGroups {
    return this.relations('conflicts');
  }

  get replaces(): RelationGroups {
    return this.relations('replaces');
  }

  field(name: string): string | undefined {
    return this.raw[name.toLowerCase()];
  }

  /** Parses a relation field once; throws `PACKAGE_INVALID` naming the package when malformed. */
  private relations(name: string): RelationGroups {
    this.parsed ??= new Map();
    let groups = this.parsed.get(name);
    if (groups === undefined) {
      const text = name === 'provides' ? this.providesText : this.raw[name];
      try {
        groups = text === undefined ? [] : parseRelations(text);
      } catch (err) {
        throw new CopaError(
          'PACKAGE_INVALID',
          `reading "${name}" of "${this.name}" "${this.version}" from "${this.origin.uri}": ` +
            (err as Error).message,
          { cause: err },
        );
      }
      this.parsed.set(name, groups);
    }
    return groups;
  }
}
