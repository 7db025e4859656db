import { compareVersions } from '../pkgmgr/version.js';
import type { UpdatedPackage } from '../pkgmgr/types.js';
import type { UpdateManifest } from '../report/index.js';
import type { VexUpdatedPackage } from './build-vex-document.js';

/**
 * Returns the packages a VEX document may claim for one platform: each update of the report
 * whose package the patch brought to at least the required version, with the vulnerabilities
 * the report names for it. Packages that failed, were held, or stayed below the required version
 * are left out, and so are packages the patch added or upgraded only as dependencies.
 */
export function fixedPackages(
  manifest: UpdateManifest,
  updated: readonly UpdatedPackage[],
): VexUpdatedPackage[] {
  const result: VexUpdatedPackage[] = [];
  for (const update of manifest.updates) {
    const candidates = updated.filter((u) => u.name === update.name);
    const done =
      candidates.find((u) => update.arch === undefined || u.arch === update.arch) ?? candidates[0];
    if (done === undefined) continue;
    if (compareVersions(manifest.os.family, done.toVersion, update.fixedVersion) < 0) continue;
    result.push({
      name: update.name,
      installedVersion: done.toVersion,
      ...(done.arch || update.arch ? { arch: done.arch || update.arch } : {}),
      vulnerabilityIds: update.vulnerabilityIds,
    });
  }
  return result;
}
