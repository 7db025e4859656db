/**
 * Version ordering per package manager, and which manager an OS family uses.
 */
import type { OsFamily } from '../report/types.js';
import { compareApkVersions } from './apk/version.js';
import { compareDebianVersions } from './dpkg/version.js';
import { compareRpmVersions } from './rpm/version.js';

/** The package formats copa knows how to order and install. */
export type PackageManagerKind = 'dpkg' | 'apk' | 'rpm';

const managerByFamily: Readonly<Record<OsFamily, PackageManagerKind>> = {
  debian: 'dpkg',
  ubuntu: 'dpkg',
  alpine: 'apk',
  wolfi: 'apk',
  chainguard: 'apk',
  redhat: 'rpm',
  centos: 'rpm',
  rocky: 'rpm',
  alma: 'rpm',
  oracle: 'rpm',
  amazon: 'rpm',
  'cbl-mariner': 'rpm',
  azurelinux: 'rpm',
  sles: 'rpm',
  'opensuse-leap': 'rpm',
  'opensuse-tumbleweed': 'rpm',
  photon: 'rpm',
  fedora: 'rpm',
};

const comparators: Readonly<Record<PackageManagerKind, (a: string, b: string) => number>> = {
  dpkg: compareDebianVersions,
  apk: compareApkVersions,
  rpm: compareRpmVersions,
};

/** Returns the package manager an OS family uses (`debian` → `dpkg`, `wolfi` → `apk`). */
export function packageManagerFor(family: OsFamily): PackageManagerKind {
  return managerByFamily[family];
}

function isManager(value: string): value is PackageManagerKind {
  return Object.hasOwn(comparators, value);
}

/**
 * Compares two versions by the order of an OS family's package manager (or of the manager
 * itself): negative when `a < b`, zero when equal, positive when `a > b`. Throws `RangeError`
 * for a family or manager copa does not know.
 */
export function compareVersions(
  familyOrManager: OsFamily | PackageManagerKind,
  a: string,
  b: string,
): number {
  const manager = isManager(familyOrManager)
    ? familyOrManager
    : managerByFamily[familyOrManager as OsFamily];
  if (manager === undefined) {
    throw new RangeError(`comparing versions: unknown OS family "${String(familyOrManager)}"`);
  }
  return comparators[manager](a, b);
}
