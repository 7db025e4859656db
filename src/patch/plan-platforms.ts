import type { Logger } from '../log.js';
import {
  formatPlatform,
  isManifestMediaType,
  platformMatches,
  type Descriptor,
  type Platform,
} from '../image/index.js';
import type { UpdateRequest } from '../pkgmgr/types.js';
import type { UpdateManifest } from '../report/types.js';

/** What is done with one entry of the source index. */
export type PlatformPlan =
  | {
      readonly action: 'patch';
      readonly descriptor: Descriptor;
      readonly platform: Platform;
      readonly request: UpdateRequest;
      /** The report asking for the updates; absent in update-all mode. */
      readonly report?: UpdateManifest;
    }
  | {
      readonly action: 'up to date';
      readonly descriptor: Descriptor;
      readonly platform: Platform;
      readonly report: UpdateManifest;
    }
  | {
      readonly action: 'keep';
      readonly descriptor: Descriptor;
      readonly platform: Platform | undefined;
      readonly reason: 'no report' | 'not selected' | 'attestation' | 'not an image';
    };

/** How the platforms to patch are chosen. */
export type PlanMode =
  | { readonly kind: 'reports'; readonly reports: readonly UpdateManifest[] }
  | { readonly kind: 'all'; readonly platforms?: readonly Platform[] | undefined };

const referenceType = 'vnd.docker.reference.type';

/** Reports whether a descriptor is a BuildKit attestation manifest (not a runnable image). */
export function isAttestation(descriptor: Descriptor): boolean {
  return descriptor.annotations?.[referenceType] === 'attestation-manifest';
}

/** The digest of the image an attestation manifest describes. */
export function attestedDigest(descriptor: Descriptor): string | undefined {
  return descriptor.annotations?.['vnd.docker.reference.digest'];
}

/**
 * Plans every entry of a source index, keeping its order. With reports, each platform with a
 * report is patched (or is up to date when its report asks for nothing), platforms without one
 * are kept, and reports naming a platform the image lacks are warned about and ignored. Without
 * reports every image platform is patched, or only those `platforms` names, the rest kept.
 */
export function planPlatforms(
  entries: readonly Descriptor[],
  mode: PlanMode,
  logger: Logger,
): PlatformPlan[] {
  const images = entries.filter((d) => isPlatformImage(d));
  if (mode.kind === 'reports') {
    const byPlatform = assignReports(images, mode.reports, logger);
    return entries.map((d) => planWithReport(d, byPlatform.get(d)));
  }
  const wanted = mode.platforms ?? [];
  if (wanted.length > 0) warnUnknownPlatforms(images, wanted, logger);
  return entries.map((d): PlatformPlan => {
    const keep = keepReason(d);
    if (keep !== undefined)
      return { action: 'keep', descriptor: d, platform: d.platform, reason: keep };
    const platform = d.platform as Platform;
    if (wanted.length > 0 && !wanted.some((w) => platformMatches(w, platform))) {
      return { action: 'keep', descriptor: d, platform, reason: 'not selected' };
    }
    return { action: 'patch', descriptor: d, platform, request: { kind: 'all' } };
  });
}

function planWithReport(d: Descriptor, report: UpdateManifest | undefined): PlatformPlan {
  const keep = keepReason(d);
  if (keep !== undefined)
    return { action: 'keep', descriptor: d, platform: d.platform, reason: keep };
  const platform = d.platform as Platform;
  if (report === undefined) return { action: 'keep', descriptor: d, platform, reason: 'no report' };
  if (report.updates.length === 0) return { action: 'up to date', descriptor: d, platform, report };
  return { action: 'patch', descriptor: d, platform, request: requestOf(report), report };
}

/** The update request a report makes. */
export function requestOf(report: UpdateManifest): UpdateRequest {
  return {
    kind: 'packages',
    packages: report.updates.map((u) => ({ name: u.name, fixedVersion: u.fixedVersion })),
  };
}

function keepReason(d: Descriptor): 'attestation' | 'not an image' | undefined {
  if (isAttestation(d)) return 'attestation';
  return isPlatformImage(d) ? undefined : 'not an image';
}

function isPlatformImage(d: Descriptor): boolean {
  const p = d.platform;
  return (
    isManifestMediaType(d.mediaType) &&
    !isAttestation(d) &&
    p !== undefined &&
    p.os !== 'unknown' &&
    p.architecture !== 'unknown'
  );
}

function assignReports(
  images: readonly Descriptor[],
  reports: readonly UpdateManifest[],
  logger: Logger,
): Map<Descriptor, UpdateManifest> {
  const assigned = new Map<Descriptor, UpdateManifest>();
  const sorted = [...reports].sort((a, b) =>
    a.source < b.source ? -1 : a.source > b.source ? 1 : 0,
  );
  for (const report of sorted) {
    if (report.platform === undefined) {
      logger.warn(`ignoring report "${report.source}": it names no platform`);
      continue;
    }
    const platform = report.platform;
    const match = images.find((d) => platformMatches(platform, d.platform as Platform));
    if (match === undefined) {
      logger.warn(
        `ignoring report "${report.source}": the image has no platform "${formatPlatform(platform)}"`,
      );
      continue;
    }
    const previous = assigned.get(match);
    if (previous !== undefined) {
      logger.warn(
        `using report "${report.source}" for "${formatPlatform(platform)}": it replaces ` +
          `"${previous.source}"`,
      );
    }
    assigned.set(match, report);
  }
  return assigned;
}

function warnUnknownPlatforms(
  images: readonly Descriptor[],
  wanted: readonly Platform[],
  logger: Logger,
): void {
  for (const w of wanted) {
    if (!images.some((d) => platformMatches(w, d.platform as Platform))) {
      logger.warn(`ignoring platform "${formatPlatform(w)}": the image does not have it`);
    }
  }
}
