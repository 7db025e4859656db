import { compareDebianVersions } from '../pkgmgr/dpkg/version.js';
import type { FailedPackage, FileTree, RequestedUpdate, TreeFile } from '../pkgmgr/types.js';

const statusPath = 'var/lib/dpkg/status';
const statusDir = 'var/lib/dpkg/status.d/';

/**
 * Reads the installed package versions of a Debian-family file tree: dpkg's status file
 * (packages in state `installed`) and distroless `status.d` files.
 */
export async function readInstalledVersions(tree: FileTree): Promise<Map<string, string>> {
  return installedVersionsOf(await tree.readFiles(isStatusFile));
}

/** Selects the files of the dpkg status database (the status file and `status.d` entries). */
export function isStatusFile(path: string): boolean {
  return path === statusPath || (path.startsWith(statusDir) && !path.endsWith('.md5sums'));
}

/** Parses the installed versions out of status database files read with {@link isStatusFile}. */
export function installedVersionsOf(files: ReadonlyMap<string, TreeFile>): Map<string, string> {
  const versions = new Map<string, string>();
  for (const file of files.values()) {
    if (file.content === undefined) continue;
    for (const stanza of new TextDecoder().decode(file.content).split(/\n\s*\n/)) {
      const name = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
      const version = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
      const status = /^Status:\s*(.+)$/m.exec(stanza)?.[1]?.trim();
      if (name === undefined || version === undefined) continue;
      if (status !== undefined && !/ (installed|half-configured|unpacked)$/.test(status)) continue;
      versions.set(name, version);
    }
  }
  return versions;
}

/**
 * Checks each requested package against the installed versions: it must be installed at a
 * version at least the fixed one. Returns the packages that are not.
 */
export function unsatisfiedUpdates(
  installed: ReadonlyMap<string, string>,
  requested: readonly RequestedUpdate[],
): FailedPackage[] {
  const failed: FailedPackage[] = [];
  for (const r of requested) {
    const version = installed.get(r.name);
    if (version === undefined) {
      failed.push({ ...r, reason: `checking "${r.name}": not installed in the result` });
    } else if (compareDebianVersions(version, r.fixedVersion) < 0) {
      failed.push({
        ...r,
        reason: `checking "${r.name}": version "${version}" is lower than "${r.fixedVersion}"`,
      });
    }
  }
  return failed;
}
