import {
  buildVexDocument,
  vexAuthorFromEnv,
  writeVexDocument,
  type VexPlatformResult,
} from '../vex/index.js';
import { platformMatches } from '../image/index.js';
import type { UpdateManifest } from '../report/types.js';
import type { PatchSummary } from './types.js';

/**
 * Writes the OpenVEX document of a run to `path`: one `fixed` statement per vulnerability an
 * updated package closed, naming the patched manifests (and the index of a multi-platform
 * result). Failed packages are left out. Nothing is written when nothing was fixed.
 *
 * Returns whether a document was written.
 */
export async function writeVex(
  summary: PatchSummary,
  reports: readonly UpdateManifest[],
  path: string,
): Promise<boolean> {
  const repositoryUrl = repositoryOf(summary.target ?? summary.source);
  const name = repositoryUrl.split('/').pop() ?? repositoryUrl;
  const results: VexPlatformResult[] = [];
  for (const p of summary.platforms) {
    if (p.status !== 'patched' || p.digest === undefined) continue;
    const report = reports.find(
      (r) => r.platform === undefined || platformMatches(r.platform, p.platform),
    );
    if (report === undefined) continue;
    const versions = new Map(p.updated.map((u) => [u.name, u]));
    results.push({
      platform: p.platform,
      os: report.os,
      imageRef: { repositoryUrl, name },
      manifestDigest: p.digest,
      updated: p.fixedVulnerabilities.flatMap((f) => {
        const u = versions.get(f.name);
        return u === undefined
          ? []
          : [
              {
                name: f.name,
                installedVersion: u.toVersion,
                arch: u.arch,
                vulnerabilityIds: f.ids,
              },
            ];
      }),
    });
  }
  const single =
    summary.platforms.filter((p) => p.status === 'patched').length === 1 &&
    summary.digest === results[0]?.manifestDigest;
  const doc = buildVexDocument({
    results,
    ...(summary.digest !== undefined && !single ? { indexDigest: summary.digest } : {}),
    author: vexAuthorFromEnv(process.env),
  });
  if (doc === undefined) return false;
  await writeVexDocument(path, doc);
  return true;
}

/** `registry/repository` of a reference or `oci:DIR:TAG` name. */
function repositoryOf(name: string): string {
  if (name.startsWith('oci:')) return name.replace(/:[^:/]*$/, '');
  return name.replace(/@.*$/, '').replace(/:[^:/]*$/, '');
}
