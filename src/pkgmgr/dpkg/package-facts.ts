/**
 * The facts dependency checks need of a package version, read alike from installed stanzas and
 * index records.
 */
import type { PackageRecord } from './apt/index.js';
import {
  parseSourceField,
  tryParseRelations,
  type Relation,
  type RelationGroups,
} from './apt/relations.js';
import { fieldValue } from './control.js';
import type { StatusEntry } from './status-database.js';

/** What dependency checks need of a package version, installed or from an index. */
export interface PackageFacts {
  readonly name: string;
  readonly arch: string;
  readonly version: string;
  readonly multiArch: string;
  readonly source: string;
  readonly sourceVersion: string;
  readonly depends: RelationGroups;
  readonly preDepends: RelationGroups;
  readonly provides: RelationGroups;
  readonly breaks: RelationGroups;
  readonly conflicts: RelationGroups;
}

function relations(entry: StatusEntry, field: string): RelationGroups {
  const value = fieldValue(entry.stanza, field);
  return value === undefined ? [] : (tryParseRelations(value) ?? []);
}

/** Reads the dependency facts of an installed stanza. */
export function factsOfEntry(entry: StatusEntry): PackageFacts {
  const source = parseSourceField(fieldValue(entry.stanza, 'Source'), entry);
  return {
    name: entry.name,
    arch: entry.arch,
    version: entry.version,
    multiArch: entry.multiArch ?? 'no',
    source: source.name,
    sourceVersion: source.version,
    depends: relations(entry, 'Depends'),
    preDepends: relations(entry, 'Pre-Depends'),
    provides: relations(entry, 'Provides'),
    breaks: relations(entry, 'Breaks'),
    conflicts: relations(entry, 'Conflicts'),
  };
}

/** Reads the dependency facts of an index record. */
export function factsOfRecord(record: PackageRecord): PackageFacts {
  return {
    name: record.name,
    arch: record.architecture,
    version: record.version,
    multiArch: record.multiArch,
    source: record.source,
    sourceVersion: record.sourceVersion,
    depends: record.depends,
    preDepends: record.preDepends,
    provides: record.provides,
    breaks: record.breaks,
    conflicts: record.conflicts,
  };
}

export const keyOf = (f: { name: string; arch: string }): string => `${f.name}:${f.arch}`;

export function provided(f: PackageFacts): string[] {
  return f.provides.flat().map((p) => p.name);
}

export function providesName(f: PackageFacts, name: string): boolean {
  return f.provides.some((g) => g.some((p) => p.name === name));
}

export function describe(r: Relation): string {
  const arch = r.archQualifier === undefined ? '' : `:${r.archQualifier}`;
  const version = r.version === undefined ? '' : ` (${r.version.operator} ${r.version.version})`;
  return `"${r.name}${arch}${version}"`;
}
