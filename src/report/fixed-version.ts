import { compareVersions } from '../pkgmgr/version.js';
import type { OsFamily } from './types.js';

/** Tokens of a fixed-version list that are range expressions (`>= 2.1.0`), not versions. */
const rangeOperator = /^(?:[<>]=?|=|!=)/;

/**
 * Splits a scanner's fixed-version field (`"3.0.15-1~deb12u1"`, `"2.2.5, 2.3.2"`) into the
 * versions it lists, dropping empty parts and range expressions.
 */
export function splitFixedVersions(field: string | undefined): string[] {
  if (field === undefined) return [];
  return field
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !rangeOperator.test(part));
}

/**
 * Chooses the version to install from the fixed versions a scanner lists: the smallest one
 * above `installedVersion` by the family's version order (a list names one fix per release
 * line). When none is above it, the highest listed version is returned, which the package
 * manager then finds already satisfied. `undefined` when the list names no version.
 *
 * Throws `RangeError` when a version cannot be ordered (an empty version for dpkg or rpm).
 */
export function chooseFixedVersion(
  family: OsFamily,
  installedVersion: string,
  fixedVersions: readonly string[],
): string | undefined {
  const sorted = [...fixedVersions].sort((a, b) => compareVersions(family, a, b));
  return sorted.find((v) => compareVersions(family, v, installedVersion) > 0) ?? sorted.at(-1);
}
