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
const REQUIRED = ['package', 'version', 'architecture', 'filename', 'size', 'sha256'] as const;

type RawFields = Record<string, string>;

/** Builds a record from kept raw fields, or returns a reason why the stanza is unusable. */
export function toPackageRecord(raw: RawFields, origin: RepositoryOrigin): PackageRecord | string {
  for (const name of REQUIRED) if (raw[name] === undefined) return `missing "${name}"`;
  const size = Number(raw['size']);
  if (!Number.isSafeInteger(size) || size < 0) return `invalid "Size" "${raw['size']}"`;
  if (!/^[0-9a-f]{64}$/i.test(raw['sha256'] ?? '')) return 'invalid "SHA256"';
  return new IndexRecord(raw, origin);
}

class IndexRecord implements PackageRecord {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  readonly filename: string;
  readonly sizeBytes: number;
  readonly sha256: string;
  readonly origin: RepositoryOrigin;
  private readonly raw: RawFields;
  private parsed: Map<string, RelationGroups> | undefined;

  constructor(raw: RawFields, origin: RepositoryOrigin) {
    this.raw = raw;
    this.origin = origin;
    this.name = raw['package']!;
    this.version = raw['version']!;
    this.architecture = raw['architecture']!;
    this.filename = raw['filename']!;
    this.sizeBytes = Number(raw['size']);
    this.sha256 = raw['sha256']!.toLowerCase();
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
      const text = this.raw[name];
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
