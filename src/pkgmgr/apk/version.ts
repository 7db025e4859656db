/**
 * Alpine package version comparison, with the token rules of apk-tools' `apk_version_compare`:
 * `digits{.digits}[letter]{_suffix[digits]}[~hash][-r<revision>]`. Pre-release suffixes
 * (`_alpha`, `_beta`, `_pre`, `_rc`) sort before the bare version, post-release ones (`_cvs`,
 * `_svn`, `_git`, `_hg`, `_p`) after it.
 * https://gitlab.alpinelinux.org/alpine/apk-tools/-/blob/v2.14.0/src/version.c
 */

/**
 * Token kinds, ranked: when two versions agree up to a point and then go on with different
 * kinds, the one going on with the higher rank is the older (`1.0` < `1.0.1`, `1.0-r1` < `1.0_p1`).
 */
const Kind = {
  InitialDigits: 0,
  Digits: 1,
  Letter: 2,
  Suffix: 3,
  SuffixNumber: 4,
  CommitHash: 5,
  Revision: 6,
  End: 7,
  Invalid: 8,
} as const;
type Kind = (typeof Kind)[keyof typeof Kind];

/** Suffix values: pre-release ones below `none` (0), post-release ones above. */
const suffixValues: Readonly<Record<string, number>> = {
  alpha: -4,
  beta: -3,
  pre: -2,
  rc: -1,
  cvs: 1,
  svn: 2,
  git: 3,
  hg: 4,
  p: 5,
};

interface Token {
  readonly kind: Kind;
  /** The token's characters without its separator (`.`, `_`, `~`, `-r`). */
  readonly text: string;
  readonly suffix: number;
}

const digitsAt = /^[0-9]+/;
const lettersAt = /^[a-z]+/;
const hexAt = /^[0-9a-f]+/;

/** Splits a version into tokens; the last one is `End` or `Invalid`. */
function tokenize(version: string): Token[] {
  const first = digitsAt.exec(version)?.[0];
  if (first === undefined) return [token(Kind.Invalid, '')];
  const tokens: Token[] = [token(Kind.InitialDigits, first)];
  let rest = version.slice(first.length);
  for (;;) {
    const previous = tokens[tokens.length - 1]!.kind;
    const next = readToken(rest, previous);
    tokens.push(next.token);
    if (next.token.kind >= Kind.End) return tokens;
    rest = rest.slice(next.length);
  }
}

function token(kind: Kind, text: string, suffix = 0): Token {
  return { kind, text, suffix };
}

/** Reads the token at the start of `rest`, checking that it may follow `previous`. */
function readToken(rest: string, previous: Kind): { token: Token; length: number } {
  const invalid = { token: token(Kind.Invalid, ''), length: 0 };
  const c = rest[0];
  if (c === undefined) return { token: token(Kind.End, ''), length: 0 };
  if (c >= 'a' && c <= 'z') {
    return previous > Kind.Digits ? invalid : { token: token(Kind.Letter, c), length: 1 };
  }
  if (c === '.' || (c >= '0' && c <= '9')) {
    const dot = c === '.' ? 1 : 0;
    if (dot === 1 && previous > Kind.Digits) return invalid;
    const kind = numberKindAfter(previous);
    const digits = digitsAt.exec(rest.slice(dot))?.[0];
    if (kind === undefined || digits === undefined) return invalid;
    return { token: token(kind, digits), length: dot + digits.length };
  }
  if (c === '_') {
    const name = lettersAt.exec(rest.slice(1))?.[0] ?? '';
    const value = suffixValues[name];
    if (previous > Kind.SuffixNumber || value === undefined) return invalid;
    return { token: token(Kind.Suffix, name, value), length: 1 + name.length };
  }
  if (c === '~') {
    const hash = hexAt.exec(rest.slice(1))?.[0];
    if (previous >= Kind.CommitHash || hash === undefined) return invalid;
    return { token: token(Kind.CommitHash, hash), length: 1 + hash.length };
  }
  if (c === '-' && rest[1] === 'r') {
    const digits = digitsAt.exec(rest.slice(2))?.[0];
    if (previous >= Kind.Revision || digits === undefined) return invalid;
    return { token: token(Kind.Revision, digits), length: 2 + digits.length };
  }
  return invalid;
}

/** Digits continue a version part after digits, or number a suffix. */
function numberKindAfter(previous: Kind): Kind | undefined {
  if (previous === Kind.InitialDigits || previous === Kind.Digits) return Kind.Digits;
  if (previous === Kind.Suffix) return Kind.SuffixNumber;
  return undefined;
}

/** Compares two tokens of the same kind. */
function compareTokens(a: Token, b: Token): number {
  switch (a.kind) {
    case Kind.Digits:
      // A leading zero on either side compares as text, as Gentoo's rules do (1.01 < 1.1).
      if (a.text.startsWith('0') || b.text.startsWith('0')) return compareText(a.text, b.text);
      return compareNumbers(a.text, b.text);
    case Kind.InitialDigits:
    case Kind.SuffixNumber:
    case Kind.Revision:
      return compareNumbers(a.text, b.text);
    case Kind.Suffix:
      return Math.sign(a.suffix - b.suffix);
    default:
      return compareText(a.text, b.text);
  }
}

function compareNumbers(a: string, b: string): number {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return compareText(x, y);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reports whether `version` follows apk's version syntax (`1.2.3_rc1-r0`). */
export function isValidApkVersion(version: string): boolean {
  return tokenize(version).at(-1)!.kind === Kind.End;
}

/**
 * Compares two Alpine package versions: negative when `a < b`, zero when equal, positive when
 * `a > b`. An invalid version compares by its valid prefix and sorts before a valid one that
 * ends there.
 */
export function compareApkVersions(a: string, b: string): number {
  const ta = tokenize(a);
  const tb = tokenize(b);
  let i = 0;
  for (; ta[i]!.kind === tb[i]!.kind && ta[i]!.kind < Kind.End; i++) {
    const cmp = compareTokens(ta[i]!, tb[i]!);
    if (cmp !== 0) return cmp;
  }
  const x = ta[i]!;
  const y = tb[i]!;
  if (x.kind === y.kind) return 0;

  // Equal so far: the longer version is newer, unless it goes on with a pre-release suffix.
  if (x.kind === Kind.Suffix && x.suffix < 0) return -1;
  if (y.kind === Kind.Suffix && y.suffix < 0) return 1;
  return x.kind > y.kind ? -1 : 1;
}
