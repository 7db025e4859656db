/**
 * Package relationship fields (`Depends`, `Pre-Depends`, `Provides`, `Breaks`, `Conflicts`,
 * `Replaces`, ...), as Debian Policy 7.1 writes them:
 * https://www.debian.org/doc/debian-policy/ch-relationships.html#syntax-of-relationship-fields
 */
import { CopaError } from '../../../errors.js';
import { compareDebianVersions } from '../version.js';

/** A version operator; the obsolete `<` and `>` are read as `<=` and `>=`, as dpkg does. */
export type RelationOperator = '<<' | '<=' | '=' | '>=' | '>>';

/** One alternative of a group: `name[:qualifier] [(op version)] [[archs]] [<profiles>]`. */
export interface Relation {
  readonly name: string;
  /** The architecture qualifier after `:` (`any`, `native` or an architecture name). */
  readonly archQualifier?: string;
  readonly version?: { readonly operator: RelationOperator; readonly version: string };
  /**
   * The architecture restriction list (`[amd64 !i386]`), found only in source packages. Entries
   * keep their `!` negation.
   */
  readonly architectures?: readonly string[];
  /** Build profile formulas (`<!nocheck> <stage1>`), found only in source packages. */
  readonly profiles?: readonly (readonly string[])[];
}

/** A field's groups, all required, each a list of alternatives of which one is enough. */
export type RelationGroups = readonly (readonly Relation[])[];

const operators: Readonly<Record<string, RelationOperator>> = {
  '<<': '<<',
  '<=': '<=',
  '<': '<=',
  '=': '=',
  '>=': '>=',
  '>': '>=',
  '>>': '>>',
};

const namePattern = /^[a-z0-9][a-z0-9+.\-_]*$/i;

/**
 * Parses a relationship field into its comma-separated groups of `|` alternatives. An empty or
 * blank field gives no groups. Throws a `PACKAGE_INVALID` {@link CopaError} on malformed text.
 *
 * @example
 * parseRelations('libc6 (>= 2.34), default-mta | mail-transport-agent, perl:any');
 */
export function parseRelations(text: string): Relation[][] {
  const groups: Relation[][] = [];
  for (const group of text.split(',')) {
    if (group.trim() === '') continue;
    groups.push(group.split('|').map((alt) => parseAlternative(alt, text)));
  }
  return groups;
}

/** Like {@link parseRelations}, but returns `undefined` instead of throwing. */
export function tryParseRelations(text: string): Relation[][] | undefined {
  try {
    return parseRelations(text);
  } catch {
    return undefined;
  }
}

function parseAlternative(raw: string, field: string): Relation {
  let rest = raw.trim();
  const fail = (reason: string): never => {
    throw new CopaError('PACKAGE_INVALID', `parsing relation "${field.trim()}": ${reason}`);
  };
  const head = /^[^\s(<[]+/.exec(rest);
  if (head === null) return fail(`missing package name in "${rest}"`);
  rest = rest.slice(head[0].length).trimStart();
  const [name = '', archQualifier] = head[0].split(':', 2);
  if (!namePattern.test(name)) fail(`invalid package name "${name}"`);
  const relation: { -readonly [K in keyof Relation]: Relation[K] } = { name };
  if (archQualifier !== undefined) {
    if (archQualifier === '') fail(`empty architecture qualifier on "${name}"`);
    relation.archQualifier = archQualifier;
  }
  if (rest.startsWith('(')) {
    const m = /^\(\s*(<<|<=|>=|>>|=|<|>)\s*([0-9A-Za-z][^\s()]*)\s*\)/.exec(rest);
    if (m === null) return fail(`invalid version restriction in "${raw.trim()}"`);
    relation.version = { operator: operators[m[1] ?? '='] ?? '=', version: m[2] ?? '' };
    rest = rest.slice(m[0].length).trimStart();
  }
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) fail(`unterminated architecture list in "${raw.trim()}"`);
    relation.architectures = rest.slice(1, end).trim().split(/\s+/).filter(Boolean);
    rest = rest.slice(end + 1).trimStart();
  }
  const profiles: string[][] = [];
  while (rest.startsWith('<')) {
    const end = rest.indexOf('>');
    if (end < 0) fail(`unterminated build profile in "${raw.trim()}"`);
    profiles.push(rest.slice(1, end).trim().split(/\s+/).filter(Boolean));
    rest = rest.slice(end + 1).trimStart();
  }
  if (profiles.length > 0) relation.profiles = profiles;
  if (rest !== '') fail(`unexpected "${rest}" after "${name}"`);
  return relation;
}

/** Reports whether `version` satisfies the relation's version restriction (true without one). */
export function satisfiesVersion(version: string, relation: Relation): boolean {
  if (relation.version === undefined) return true;
  const cmp = compareDebianVersions(version, relation.version.version);
  switch (relation.version.operator) {
    case '<<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    case '=':
      return cmp === 0;
    case '>=':
      return cmp >= 0;
    case '>>':
      return cmp > 0;
  }
}

/** Writes relation groups back in the canonical form (`a (>= 1) | b:any, c`). */
export function formatRelations(groups: RelationGroups): string {
  return groups.map((group) => group.map(formatRelation).join(' | ')).join(', ');
}

function formatRelation(r: Relation): string {
  let text = r.archQualifier === undefined ? r.name : `${r.name}:${r.archQualifier}`;
  if (r.version !== undefined) text += ` (${r.version.operator} ${r.version.version})`;
  if (r.architectures !== undefined) text += ` [${r.architectures.join(' ')}]`;
  for (const p of r.profiles ?? []) text += ` <${p.join(' ')}>`;
  return text;
}

/**
 * Splits a `Source` field (`name` or `name (version)`) into the source package name and its
 * version, which defaults to the binary package's own version.
 */
export function parseSourceField(
  source: string | undefined,
  binary: { readonly name: string; readonly version: string },
): { readonly name: string; readonly version: string } {
  if (source === undefined || source.trim() === '') return binary;
  const m = /^\s*(\S+)(?:\s*\(\s*([^\s)]+)\s*\))?\s*$/.exec(source);
  if (m === null) return binary;
  return { name: m[1] ?? binary.name, version: m[2] ?? binary.version };
}
