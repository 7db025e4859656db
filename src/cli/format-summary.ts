import { formatPlatform } from '../image/index.js';
import type { PatchSummary, PlatformSummary } from '../patch/index.js';

/**
 * Formats the end of a patch run for stderr: a table with one row per platform (platform,
 * status, packages updated, the result's manifest digest), then the reason of each platform that
 * was not patched or failed, the maintainer scripts of updated packages that were not run, and
 * the attestation manifests left out. Returns the lines, without newlines; none for a run that
 * had no platform.
 */
export function formatSummary(summary: PatchSummary): string[] {
  if (summary.platforms.length === 0) return [];
  const rows = summary.platforms.map((p) => [
    formatPlatform(p.platform),
    p.status,
    p.status === 'patched' ? String(p.updated.length) : '-',
    p.digest ?? '-',
  ]);
  const lines = columns([['PLATFORM', 'STATUS', 'UPDATED', 'MANIFEST'], ...rows]);
  lines.push(...notes(summary.platforms));
  lines.push(...scriptsNotRun(summary.platforms));
  const dropped = summary.droppedAttestations;
  if (dropped.length > 0) {
    lines.push(`attestation manifests left out, their images were replaced (${dropped.length}):`);
    lines.push(...dropped.map((d) => `  ${d}`));
  }
  return lines;
}

function notes(platforms: readonly PlatformSummary[]): string[] {
  return platforms.flatMap((p) => {
    const failed =
      p.status === 'patched' ? p.failed.map((f) => `"${f.name}" not updated: ${f.reason}`) : [];
    const reason = p.message === undefined || p.status === 'patched' ? [] : [p.message];
    return [...reason, ...failed].map((text) => `${formatPlatform(p.platform)}: ${text}`);
  });
}

function scriptsNotRun(platforms: readonly PlatformSummary[]): string[] {
  const lines = platforms.flatMap((p) =>
    p.scriptsNotRun.map(
      (s) => `  ${formatPlatform(p.platform)}: ${s.name} (${s.scripts.join(', ')})`,
    ),
  );
  if (lines.length === 0) return [];
  return ['maintainer scripts not run (the packages were unpacked only):', ...lines];
}

/** Left-aligned columns, two spaces apart. */
function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
