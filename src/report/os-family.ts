import { CopaError } from '../errors.js';
import type { OsFamily } from './types.js';

/**
 * Names scanners and os-release files use, most specific first: a name matches the first entry
 * it contains (`opensuse-leap` before `suse`, `azurelinux` before `linux`).
 */
const familyPatterns: readonly (readonly [string, OsFamily])[] = [
  ['opensuse-tumbleweed', 'opensuse-tumbleweed'],
  ['tumbleweed', 'opensuse-tumbleweed'],
  ['opensuse-leap', 'opensuse-leap'],
  ['opensuse.leap', 'opensuse-leap'],
  ['opensuse leap', 'opensuse-leap'],
  ['azurelinux', 'azurelinux'],
  ['azure linux', 'azurelinux'],
  ['mariner', 'cbl-mariner'],
  ['almalinux', 'alma'],
  ['alma', 'alma'],
  ['rocky', 'rocky'],
  ['centos', 'centos'],
  ['oracle', 'oracle'],
  ['amazon', 'amazon'],
  ['amzn', 'amazon'],
  ['redhat', 'redhat'],
  ['red hat', 'redhat'],
  ['rhel', 'redhat'],
  ['ubuntu', 'ubuntu'],
  ['debian', 'debian'],
  ['alpine', 'alpine'],
  ['wolfi', 'wolfi'],
  ['chainguard', 'chainguard'],
  ['photon', 'photon'],
  ['fedora', 'fedora'],
  ['sles', 'sles'],
  ['suse linux enterprise server', 'sles'],
];

/** Short os-release IDs that are too short to match as substrings. */
const exactNames: Readonly<Record<string, OsFamily>> = { ol: 'oracle', sle: 'sles' };

/**
 * Returns copa's name for the OS family a scanner names (`almalinux` → `alma`, `amzn` →
 * `amazon`, `mariner` → `cbl-mariner`), or `undefined` for a family copa cannot patch.
 */
export function tryNormalizeOsFamily(name: string): OsFamily | undefined {
  const text = name.trim().toLowerCase();
  if (text === '') return undefined;
  const exact = exactNames[text];
  if (exact !== undefined) return exact;
  return familyPatterns.find(([pattern]) => text.includes(pattern))?.[1];
}

/**
 * Like {@link tryNormalizeOsFamily}, but throws a `CopaError` with code `OS_UNSUPPORTED`
 * naming the family and the report `source` when copa cannot patch it.
 */
export function normalizeOsFamily(name: string, source: string): OsFamily {
  const family = tryNormalizeOsFamily(name);
  if (family !== undefined) return family;
  throw new CopaError(
    'OS_UNSUPPORTED',
    `reading report "${source}": OS family "${name}" is not supported`,
    {
      hint:
        'copa patches Debian, Ubuntu, Alpine, Wolfi, Chainguard and rpm-based distributions ' +
        '(Red Hat, CentOS, Rocky, Alma, Oracle, Amazon, Azure Linux, CBL-Mariner, SLES, ' +
        'openSUSE, Photon, Fedora).',
    },
  );
}
