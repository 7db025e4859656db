/**
 * Trivy JSON (`trivy image -f json`): schema 2 (Trivy 0.20 and later) and the older top-level
 * array. Only the fields a patcher needs are read; unknown keys are ignored.
 */
import { CopaError } from '../errors.js';
import { normalizePlatform, type Platform } from '../image/index.js';
import { buildUpdateManifest, type OsFinding } from './build-update-manifest.js';
import { splitFixedVersions } from './fixed-version.js';
import {
  arrayField,
  isJsonObject,
  objectField,
  objects,
  stringField,
  type JsonObject,
} from './json-fields.js';
import { normalizeOsFamily, tryNormalizeOsFamily } from './os-family.js';
import type { ParseReportOptions } from './parse-report-options.js';
import { missingOsError, noOsError } from './report-errors.js';
import type { LanguagePackageFinding, UpdateManifest } from './types.js';

/** Reports whether a parsed JSON document looks like Trivy output (schema 2 or legacy). */
export function isTrivyDocument(doc: unknown): boolean {
  return doc === null || Array.isArray(doc) || (isJsonObject(doc) && 'SchemaVersion' in doc);
}

/**
 * Normalises a parsed Trivy report. OS packages come from `os-pkgs` results (in legacy files,
 * results whose `Type` or `Target` names the OS), language packages from `lang-pkgs` results.
 *
 * Throws a `CopaError`: `REPORT_INVALID` for a document that is not a Trivy report or names OS
 * findings without the OS, `OS_UNSUPPORTED` when the OS is missing or not one copa patches.
 */
export function parseTrivyReport(doc: unknown, options: ParseReportOptions): UpdateManifest {
  if (doc === null || Array.isArray(doc)) return parseLegacy(doc ?? [], options);
  if (!isJsonObject(doc) || !('SchemaVersion' in doc)) {
    throw new CopaError(
      'REPORT_INVALID',
      `reading report "${options.source}": not a Trivy report`,
      {
        hint: 'Write the report with `trivy image -f json`, or name its format with --scanner.',
      },
    );
  }
  if (doc.SchemaVersion !== 2) {
    throw new CopaError(
      'REPORT_FORMAT_UNSUPPORTED',
      `reading report "${options.source}": ` +
        `Trivy schema version ${JSON.stringify(doc.SchemaVersion)} is not supported`,
      { hint: 'copa reads Trivy JSON schema 2 and the older array form.' },
    );
  }
  return parseSchema2(doc, options);
}

function parseSchema2(doc: JsonObject, options: ParseReportOptions): UpdateManifest {
  const metadata = objectField(doc, 'Metadata');
  const osInfo = objectField(metadata, 'OS');
  const familyName = stringField(osInfo, 'Family');
  const results = objects(arrayField(doc, 'Results'));
  const split = splitResults(results, false);

  if (familyName === '' || familyName === 'none') {
    if (split.findings.length > 0) throw missingOsError(options.source, 'Metadata.OS');
    throw noOsError(options.source);
  }
  return buildUpdateManifest({
    source: options.source,
    scanner: 'trivy',
    os: {
      family: normalizeOsFamily(familyName, options.source),
      version: stringField(osInfo, 'Name'),
    },
    platform: platformOf(objectField(metadata, 'ImageConfig')),
    findings: split.findings,
    languagePackages: split.languagePackages,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

/**
 * Legacy files carry no metadata: the OS comes from an OS result's `Target`,
 * `name (family version)`.
 */
function parseLegacy(results: readonly unknown[], options: ParseReportOptions): UpdateManifest {
  const resultObjects = objects(results);
  const split = splitResults(resultObjects, true);
  const os = resultObjects.map(osFromTarget).find((o) => o !== undefined);
  if (os === undefined) {
    if (split.findings.length > 0) throw missingOsError(options.source, 'the OS result Target');
    throw noOsError(options.source);
  }
  return buildUpdateManifest({
    source: options.source,
    scanner: 'trivy',
    os: { family: normalizeOsFamily(os.family, options.source), version: os.version },
    findings: split.findings,
    languagePackages: split.languagePackages,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

const targetOs = /\(\s*([A-Za-z][\w .-]*?)\s+([^\s()]+)\s*\)\s*$/;

function osFromTarget(result: JsonObject): { family: string; version: string } | undefined {
  const match = targetOs.exec(stringField(result, 'Target'));
  if (match === null || tryNormalizeOsFamily(match[1]!) === undefined) return undefined;
  return { family: match[1]!, version: match[2]! };
}

function isOsResult(result: JsonObject, legacy: boolean): boolean | undefined {
  const resultClass = stringField(result, 'Class');
  if (resultClass === 'os-pkgs') return true;
  if (resultClass === 'lang-pkgs') return false;
  if (resultClass !== '') return undefined;
  const type = stringField(result, 'Type');
  if (type !== '') return tryNormalizeOsFamily(type) !== undefined;
  return legacy && osFromTarget(result) !== undefined;
}

function splitResults(
  results: readonly JsonObject[],
  legacy: boolean,
): { findings: OsFinding[]; languagePackages: LanguagePackageFinding[] } {
  const findings: OsFinding[] = [];
  const languagePackages: LanguagePackageFinding[] = [];
  for (const result of results) {
    const os = isOsResult(result, legacy);
    if (os === undefined) continue;
    for (const vuln of objects(arrayField(result, 'Vulnerabilities'))) {
      if (os) findings.push(toOsFinding(vuln));
      else languagePackages.push(toLanguageFinding(result, vuln));
    }
  }
  return { findings, languagePackages };
}

function toOsFinding(vuln: JsonObject): OsFinding {
  const arch = archOf(vuln);
  return {
    name: stringField(vuln, 'PkgName'),
    installedVersion: stringField(vuln, 'InstalledVersion'),
    fixedVersions: splitFixedVersions(stringField(vuln, 'FixedVersion')),
    vulnerabilityId: stringField(vuln, 'VulnerabilityID'),
    ...(arch ? { arch } : {}),
  };
}

function toLanguageFinding(result: JsonObject, vuln: JsonObject): LanguagePackageFinding {
  const fixedVersion = stringField(vuln, 'FixedVersion');
  return {
    type: stringField(result, 'Type') || 'unknown',
    target: stringField(vuln, 'PkgPath') || stringField(result, 'Target'),
    name: stringField(vuln, 'PkgName'),
    installedVersion: stringField(vuln, 'InstalledVersion'),
    ...(fixedVersion ? { fixedVersion } : {}),
    vulnerabilityId: stringField(vuln, 'VulnerabilityID'),
  };
}

const rpmArches = new Set(['x86_64', 'aarch64', 'noarch', 'i686', 'ppc64le', 's390x', 'armv7hl']);

/** The package's architecture: the PURL's `arch` qualifier, else the suffix of an rpm `PkgID`. */
function archOf(vuln: JsonObject): string | undefined {
  const purl = stringField(objectField(vuln, 'PkgIdentifier'), 'PURL');
  const qualifier = /[?&]arch=([^&#]+)/.exec(purl)?.[1];
  if (qualifier !== undefined) return decodeURIComponent(qualifier);
  const suffix = /\.([a-z0-9_]+)$/.exec(stringField(vuln, 'PkgID'))?.[1];
  return suffix !== undefined && rpmArches.has(suffix) ? suffix : undefined;
}

function platformOf(config: JsonObject | undefined): Platform | undefined {
  const architecture = stringField(config, 'architecture');
  if (architecture === '') return undefined;
  const variant = stringField(config, 'variant');
  return normalizePlatform({
    os: stringField(config, 'os') || 'linux',
    architecture,
    ...(variant ? { variant } : {}),
  });
}
