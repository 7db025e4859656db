import type { Platform } from '../image/types.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { CopaError } from '../errors.js';
import { compareVersions } from '../pkgmgr/version.js';
import { chooseFixedVersion } from './fixed-version.js';
import type {
  LanguagePackageFinding,
  OsFamily,
  PackageUpdate,
  UnfixableFinding,
  UpdateManifest,
} from './types.js';

/** One OS-package finding as a parser reads it, before grouping. */
export interface OsFinding {
  readonly name: string;
  readonly installedVersion: string;
  /** The versions the scanner lists as fixing it; empty when there is no fix. */
  readonly fixedVersions: readonly string[];
  readonly vulnerabilityId: string;
  readonly arch?: string;
}

export interface BuildUpdateManifestInput {
  readonly source: string;
  readonly scanner: string;
  readonly os: { readonly family: OsFamily; readonly version: string };
  readonly platform?: Platform;
  readonly findings: readonly OsFinding[];
  readonly languagePackages?: readonly LanguagePackageFinding[];
  readonly logger?: Logger;
}

/**
 * Groups a report's findings into the normalised manifest: one update per package, to the highest
 * version any of its vulnerabilities requires (by the family's version order), with the
 * vulnerability IDs sorted and unique; findings without a fix listed as unfixable. Output is
 * sorted by name, so equal reports give equal manifests.
 *
 * Throws a `CopaError` with code `REPORT_INVALID` when a version cannot be ordered.
 */
export function buildUpdateManifest(input: BuildUpdateManifestInput): UpdateManifest {
  const logger = input.logger ?? silentLogger;
  const groups = new Map<string, { required: string; finding: OsFinding; ids: Set<string> }>();
  const unfixable = new Map<string, UnfixableFinding>();

  for (const finding of input.findings) {
    if (finding.name === '') throw unnamedError(input.source, finding);
    const required = chooseOrThrow(input, finding);
    if (required === undefined) {
      const key = `${finding.name}\0${finding.vulnerabilityId}`;
      unfixable.set(key, pick(finding));
      continue;
    }
    // TODO: a package installed for two architectures (dpkg multiarch, libc6:amd64 and
    // libc6:i386) becomes one update with the first architecture; the other is not named.
    const group = groups.get(finding.name);
    if (group === undefined) {
      groups.set(finding.name, { required, finding, ids: new Set([finding.vulnerabilityId]) });
      continue;
    }
    group.ids.add(finding.vulnerabilityId);
    if (compareVersions(input.os.family, required, group.required) > 0) group.required = required;
  }

  const updates = [...groups.values()].map(({ required, finding, ids }): PackageUpdate => {
    logger.debug(`report "${input.source}": "${finding.name}" needs "${required}" or later`);
    return {
      name: finding.name,
      installedVersion: finding.installedVersion,
      fixedVersion: required,
      vulnerabilityIds: [...ids].sort(compareText),
      ...(finding.arch ? { arch: finding.arch } : {}),
    };
  });
  return {
    source: input.source,
    scanner: input.scanner,
    os: input.os,
    ...(input.platform ? { platform: input.platform } : {}),
    updates: updates.sort((a, b) => compareText(a.name, b.name)),
    unfixable: [...unfixable.values()].sort(
      (a, b) => compareText(a.name, b.name) || compareText(a.vulnerabilityId, b.vulnerabilityId),
    ),
    languagePackages: sortLanguagePackages(input.languagePackages ?? []),
  };
}

function chooseOrThrow(input: BuildUpdateManifestInput, finding: OsFinding): string | undefined {
  try {
    return chooseFixedVersion(input.os.family, finding.installedVersion, finding.fixedVersions);
  } catch (err) {
    const fixed = finding.fixedVersions.join(', ');
    throw new CopaError(
      'REPORT_INVALID',
      `reading report "${input.source}": package "${finding.name}" has versions that cannot be ` +
        `ordered (installed "${finding.installedVersion}", fixed "${fixed}")`,
      { cause: err },
    );
  }
}

function unnamedError(source: string, finding: OsFinding): CopaError {
  const id = finding.vulnerabilityId || 'without an ID';
  return new CopaError(
    'REPORT_INVALID',
    `reading report "${source}": an OS package finding (vulnerability "${id}") has no package name`,
    { hint: 'Write the report again with the scanner; it may have been edited or truncated.' },
  );
}

function pick(finding: OsFinding): UnfixableFinding {
  return {
    name: finding.name,
    installedVersion: finding.installedVersion,
    vulnerabilityId: finding.vulnerabilityId,
  };
}

function sortLanguagePackages(
  findings: readonly LanguagePackageFinding[],
): LanguagePackageFinding[] {
  const key = (f: LanguagePackageFinding): string =>
    [f.type, f.target, f.name, f.installedVersion, f.vulnerabilityId].join('\0');
  const unique = new Map(findings.map((f) => [key(f), f]));
  return [...unique.entries()].sort(([a], [b]) => compareText(a, b)).map(([, f]) => f);
}

/** Orders by UTF-16 code units, independent of the locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
