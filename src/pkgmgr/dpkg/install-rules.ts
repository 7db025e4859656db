/**
 * The image's own rules for writing package files, as dpkg applies them: diversions, stat
 * overrides, owner names from `/etc/passwd` and `/etc/group`, and `path-exclude` filters.
 */

/** `var/lib/dpkg/diversions`: a package path written elsewhere unless the diverter installs it. */
export interface Diversion {
  readonly to: string;
  /** The diverting package; `:` for a local diversion. */
  readonly by: string;
}

/** Parses `diversions` (triples of lines: from, to, package). */
export function parseDiversions(text: string | undefined): Map<string, Diversion> {
  const out = new Map<string, Diversion>();
  const lines = (text ?? '').split('\n');
  for (let i = 0; i + 2 < lines.length; i += 3) {
    const [from, to, by] = [lines[i], lines[i + 1], lines[i + 2]];
    if (from && to && by) out.set(from, { to, by });
  }
  return out;
}

/** One `statoverride` line: owner and mode forced for a path. */
export interface StatOverride {
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
}

/** Name-to-id tables of `/etc/passwd` and `/etc/group`. */
export interface IdTables {
  readonly users: ReadonlyMap<string, number>;
  readonly groups: ReadonlyMap<string, number>;
}

/** Parses a passwd- or group-style file into name → id. */
export function parseIdFile(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id !== undefined && /^\d+$/.test(id) && !out.has(name)) out.set(name, Number(id));
  }
  return out;
}

function lookupId(value: string, table: ReadonlyMap<string, number>): number | undefined {
  if (value.startsWith('#')) return Number(value.slice(1));
  return table.get(value);
}

/** Parses `statoverride` (`user group mode path` lines); unknown names are skipped. */
export function parseStatOverrides(
  text: string | undefined,
  ids: IdTables,
): Map<string, StatOverride> {
  const out = new Map<string, StatOverride>();
  for (const line of (text ?? '').split('\n')) {
    const [user, group, mode, ...rest] = line.trim().split(/\s+/);
    const path = rest.join(' ');
    if (!user || !group || !mode || path === '') continue;
    const uid = lookupId(user, ids.users);
    const gid = lookupId(group, ids.groups);
    if (uid === undefined || gid === undefined) continue;
    out.set(path, { uid, gid, mode: parseInt(mode, 8) & 0o7777 });
  }
  return out;
}

/**
 * Resolves a tar member's owner as dpkg does: the user and group names against the image's
 * tables, falling back to the numeric ids of the archive.
 */
export function resolveOwner(
  member: { uid: number; gid: number; uname?: string; gname?: string },
  ids: IdTables,
): { uid: number; gid: number } {
  const uid = member.uname === undefined ? undefined : ids.users.get(member.uname);
  const gid = member.gname === undefined ? undefined : ids.groups.get(member.gname);
  return { uid: uid ?? member.uid, gid: gid ?? member.gid };
}

/** A `path-exclude` / `path-include` rule of `dpkg.cfg`. */
interface PathRule {
  readonly include: boolean;
  readonly pattern: RegExp;
}

/**
 * Builds the filter of `etc/dpkg/dpkg.cfg` and `etc/dpkg/dpkg.cfg.d/*` (files in name order):
 * returns whether a package path is excluded (the last matching rule wins). Patterns are
 * fnmatch globs without FNM_PATHNAME, so `*` matches `/` too.
 */
export function parsePathFilters(configs: readonly string[]): (path: string) => boolean {
  const rules: PathRule[] = [];
  for (const text of configs) {
    for (const raw of text.split('\n')) {
      const m = /^\s*(path-exclude|path-include)[\s=]+(\S.*?)\s*$/.exec(raw);
      if (m?.[1] && m[2])
        rules.push({ include: m[1] === 'path-include', pattern: globToRegExp(m[2]) });
    }
  }
  if (rules.length === 0) return () => false;
  return (path) => {
    let excluded = false;
    for (const rule of rules) if (rule.pattern.test(path)) excluded = !rule.include;
    return excluded;
  };
}

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        out += `[${body}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) {
      i += 1;
      out += glob[i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}
