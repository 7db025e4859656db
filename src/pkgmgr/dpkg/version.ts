/**
 * Debian version comparison, as dpkg's `verrevcmp` orders `[epoch:]upstream[-revision]`.
 * https://www.debian.org/doc/debian-policy/ch-controlfields.html#version
 */

export interface DebianVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

/** Splits a version into epoch, upstream version and revision; throws `RangeError` when empty. */
export function parseDebianVersion(version: string): DebianVersion {
  const text = version.trim();
  if (text === '') throw new RangeError('parsing a Debian version: the version is empty');
  const colon = text.indexOf(':');
  let epoch = 0;
  let rest = text;
  if (colon > 0 && /^\d+$/.test(text.slice(0, colon))) {
    epoch = Number(text.slice(0, colon));
    rest = text.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  if (dash < 0) return { epoch, upstream: rest, revision: '' };
  return { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) };
}

/** Orders characters of the non-digit parts: `~` first, then the end, letters, the rest. */
function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[0-9]/.test(c)) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = order(a[i]);
      const bc = order(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** Compares two Debian versions: negative when `a < b`, zero when equal, positive when `a > b`. */
export function compareDebianVersions(a: string, b: string): number {
  const va = parseDebianVersion(a);
  const vb = parseDebianVersion(b);
  if (va.epoch !== vb.epoch) return va.epoch - vb.epoch;
  const upstream = verrevcmp(va.upstream, vb.upstream);
  if (upstream !== 0) return upstream;
  return verrevcmp(va.revision, vb.revision);
}
