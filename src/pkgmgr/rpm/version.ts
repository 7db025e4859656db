/**
 * RPM version comparison: `rpmvercmp` on each part of `[epoch:]version[-release]`, as rpm 4.18
 * orders them (`rpmverCmp`).
 * https://github.com/rpm-software-management/rpm/blob/rpm-4.18.0-release/rpmio/rpmvercmp.c
 */

export interface RpmVersion {
  /** `undefined` when the text has no `epoch:` part; it then orders as `0`. */
  readonly epoch: string | undefined;
  readonly version: string;
  /** `undefined` when the text has no `-release` part. */
  readonly release: string | undefined;
}

/** Splits `[epoch:]version[-release]`; throws `RangeError` when empty. */
export function parseRpmVersion(text: string): RpmVersion {
  const evr = text.trim();
  if (evr === '') throw new RangeError('parsing an rpm version: the version is empty');
  let rest = evr;
  let epoch: string | undefined;
  const colon = rest.indexOf(':');
  if (colon >= 0 && /^\d*$/.test(rest.slice(0, colon))) {
    epoch = rest.slice(0, colon) || '0';
    rest = rest.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  if (dash < 0) return { epoch, version: rest, release: undefined };
  return { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) };
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isSeparator = (c: string | undefined): boolean =>
  c !== undefined && !isDigit(c) && !isAlpha(c) && c !== '~' && c !== '^';

/**
 * Compares two version or release strings the way `rpmvercmp` does: runs of digits compare as
 * numbers, runs of letters as text, a digit run beats a letter run, `~` sorts before anything
 * (even the end) and `^` after the end but before anything else. Other characters only separate.
 */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (isSeparator(a[i])) i++;
    while (isSeparator(b[j])) j++;

    const special = compareMarkers(a[i], b[j]);
    if (special !== undefined) {
      if (special !== 0) return special;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;

    const numeric = isDigit(a[i]);
    const inRun = numeric ? isDigit : isAlpha;
    const startA = i;
    const startB = j;
    while (inRun(a[i])) i++;
    while (inRun(b[j])) j++;
    // The segments differ in kind: a number is newer than letters.
    if (j === startB) return numeric ? 1 : -1;

    const cmp = compareSegments(a.slice(startA, i), b.slice(startB, j), numeric);
    if (cmp !== 0) return cmp;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** Orders `~` and `^` markers; `undefined` when neither side has one. */
function compareMarkers(x: string | undefined, y: string | undefined): number | undefined {
  if (x === '~' || y === '~') {
    if (x !== '~') return 1;
    if (y !== '~') return -1;
    return 0;
  }
  if (x === '^' || y === '^') {
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x !== '^') return 1;
    if (y !== '^') return -1;
    return 0;
  }
  return undefined;
}

function compareSegments(x: string, y: string, numeric: boolean): number {
  if (numeric) {
    const nx = x.replace(/^0+/, '');
    const ny = y.replace(/^0+/, '');
    if (nx.length !== ny.length) return nx.length < ny.length ? -1 : 1;
    return nx < ny ? -1 : nx > ny ? 1 : 0;
  }
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Compares two `[epoch:]version[-release]` strings: negative when `a < b`, zero when equal,
 * positive when `a > b`. A missing epoch is `0` and a missing release sorts before any release,
 * as `rpm.vercmp` orders them.
 */
export function compareRpmVersions(a: string, b: string): number {
  const va = parseRpmVersion(a);
  const vb = parseRpmVersion(b);
  const epoch = rpmvercmp(va.epoch ?? '0', vb.epoch ?? '0');
  if (epoch !== 0) return epoch;
  const version = rpmvercmp(va.version, vb.version);
  if (version !== 0) return version;
  return rpmvercmp(va.release ?? '', vb.release ?? '');
}
