/**
 * Package relationship fields (`Depends`, `Breaks`, `Provides`…): parsing and dpkg's
 * normalised spelling. https://www.debian.org/doc/debian-policy/ch-relationships.html
 */

export type RelationOperator = '<<' | '<=' | '=' | '>=' | '>>';

/** One `name[:arch] (op version)` term. */
export interface Relation {
  readonly name: string;
  /** `any`, `native` or an architecture name, when qualified. */
  readonly archQualifier?: string;
  readonly operator?: RelationOperator;
  readonly version?: string;
}

/** Alternatives joined by `|`; a field is a list of groups joined by `,`. */
export type RelationGroup = readonly Relation[];

const TERM = /^([^\s:(<>=[]+)(?::([^\s(<>=[]+))?\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([^\s)]+)\s*\))?/;

/**
 * Parses a relationship field into groups of alternatives. The obsolete `<` and `>` read as
 * `<=` and `>=`, as dpkg reads them; `[arch]` and `<profile>` restrictions are dropped. Throws
 * `SyntaxError` on a malformed term.
 */
export function parseRelations(text: string | undefined): RelationGroup[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((group) => group.split('|').map((term) => parseTerm(term)));
}

function parseTerm(text: string): Relation {
  const term = text.replace(/\s+/g, ' ').trim();
  const match = TERM.exec(term);
  if (match === null || match[1] === undefined) {
    throw new SyntaxError(`bad relation "${term}"`);
  }
  const [, name, archQualifier, op, version] = match;
  const rest = term
    .slice(match[0].length)
    .replace(/\[[^\]]*\]|<[^>]*>/g, '')
    .trim();
  if (rest !== '') throw new SyntaxError(`bad relation "${term}"`);
  const operator = op === '<' ? '<=' : op === '>' ? '>=' : (op as RelationOperator | undefined);
  return {
    name,
    ...(archQualifier === undefined ? {} : { archQualifier }),
    ...(operator === undefined ? {} : { operator, version }),
  };
}

/** Formats groups as dpkg writes them: `, ` between groups, ` | ` between alternatives. */
export function formatRelations(groups: readonly RelationGroup[]): string {
  return groups.map((group) => group.map(formatRelation).join(' | ')).join(', ');
}

/** Formats one relation: `name[:arch] (op version)`. */
export function formatRelation(relation: Relation): string {
  const arch = relation.archQualifier === undefined ? '' : `:${relation.archQualifier}`;
  const version =
    relation.operator === undefined ? '' : ` (${relation.operator} ${relation.version ?? ''})`;
  return `${relation.name}${arch}${version}`;
}
