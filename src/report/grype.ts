/**
 * Grype JSON (`grype -o json`), from the old 0.7 shape (no `fix`, no architecture) to the v6
 * database era. Only OS-package matches (`deb`, `apk`, `rpm`) whose fix state is `fixed` become
 * updates; other OS matches are unfixable, language matches are kept aside.
 */
import { CopaError } from '../errors.js';
import { normalizePlatform, type Platform } from '../image/index.js';
import { buildUpdateManifest, type OsFinding } from './build-update-manifest.js';
import {
  arrayField,
  isJsonObject,
  objectField,
  objects,
  stringField,
  type JsonObject,
} from './json-fields.js';
import { normalizeOsFamily } from './os-family.js';
import { missingOsError, noOsError } from './report-errors.js';
import type { ParseReportOptions } from './parse-report-options.js';
import type { LanguagePackageFinding, UpdateManifest } from './types.js';

const osArtifactTypes = new Set(['deb', 'apk', 'rpm']);

/** Reports whether a parsed JSON document looks like Grype output. */
export function isGrypeDocument(doc: unknown): boolean {
  return isJsonObject(doc) && Array.isArray(doc.matches);
}

/**
 * Normalises a parsed Grype report. Versions are kept as Grype writes them (rpm fix versions
 * with `0:`, artifact versions without it); copa's version order treats both alike.
 *
 * Throws a `CopaError`: `REPORT_INVALID` for a document that is not a Grype report or names OS
 * matches without the distro, `OS_UNSUPPORTED` when the distro is missing or not one copa patches.
 */
export function parseGrypeReport(doc: unknown, options: ParseReportOptions): UpdateManifest {
  if (!isGrypeDocument(doc)) {
    throw new CopaError(
      'REPORT_INVALID',
      `reading report "${options.source}": not a Grype report`,
      {
        hint: 'Write the report with `grype -o json`, or name its format with --scanner.',
      },
    );
  }
  const report = doc as JsonObject;
  const findings: OsFinding[] = [];
  const languagePackages: LanguagePackageFinding[] = [];
  for (const match of objects(arrayField(report, 'matches'))) {
    const artifact = objectField(match, 'artifact');
    if (osArtifactTypes.has(stringField(artifact, 'type'))) findings.push(toOsFinding(match));
    else languagePackages.push(toLanguageFinding(match));
  }

  const distro = objectField(report, 'distro');
  const name = stringField(distro, 'name');
  if (name === '') {
    if (findings.length > 0) throw missingOsError(options.source, 'distro.name');
    throw noOsError(options.source);
  }
  return buildUpdateManifest({
    source: options.source,
    scanner: 'grype',
    os: {
      family: normalizeOsFamily(name, options.source),
      version: stringField(distro, 'version'),
    },
    platform: platformOf(objectField(report, 'source')),
    findings,
    languagePackages,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

function toOsFinding(match: JsonObject): OsFinding {
  const artifact = objectField(match, 'artifact');
  const vulnerability = objectField(match, 'vulnerability');
  const fix = objectField(vulnerability, 'fix');
  const fixed = stringField(fix, 'state') === 'fixed';
  const versions = arrayField(fix, 'versions').filter((v): v is string => typeof v === 'string');
  const arch = /[?&]arch=([^&#]+)/.exec(stringField(artifact, 'purl'))?.[1];
  return {
    name: stringField(artifact, 'name'),
    installedVersion: stringField(artifact, 'version'),
    fixedVersions: fixed ? versions.map((v) => v.trim()).filter((v) => v !== '') : [],
    vulnerabilityId: stringField(vulnerability, 'id'),
    ...(arch ? { arch: decodeURIComponent(arch) } : {}),
  };
}

function toLanguageFinding(match: JsonObject): LanguagePackageFinding {
  const artifact = objectField(match, 'artifact');
  const vulnerability = objectField(match, 'vulnerability');
  const fix = objectField(vulnerability, 'fix');
  const versions = arrayField(fix, 'versions').filter((v): v is string => typeof v === 'string');
  const location = objects(arrayField(artifact, 'locations'))[0];
  return {
    type: stringField(artifact, 'type') || 'unknown',
    target: stringField(location, 'path'),
    name: stringField(artifact, 'name'),
    installedVersion: stringField(artifact, 'version'),
    ...(versions.length > 0 ? { fixedVersion: versions.join(', ') } : {}),
    vulnerabilityId: stringField(vulnerability, 'id'),
  };
}

/**
 * The scanned image's platform: `source.target.architecture` and `os`, or, in Grype before
 * 0.30, the image config that `source.target.config` carries in base64.
 */
function platformOf(source: JsonObject | undefined): Platform | undefined {
  const target = objectField(source, 'target');
  if (target === undefined) return undefined;
  const config = decodeConfig(stringField(target, 'config'));
  const architecture = stringField(target, 'architecture') || stringField(config, 'architecture');
  if (architecture === '') return undefined;
  const variant = stringField(target, 'variant') || stringField(config, 'variant');
  return normalizePlatform({
    os: stringField(target, 'os') || stringField(config, 'os') || 'linux',
    architecture,
    ...(variant ? { variant } : {}),
  });
}

function decodeConfig(base64: string): JsonObject | undefined {
  if (base64 === '') return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
