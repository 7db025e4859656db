/**
 * Copa's update manifest (`apiVersion` `v1alpha1` or `v1alpha2`): the `--scanner native` format
 * and what scanner plugins print. Dispatch is on `apiVersion`; anything else is refused.
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
import { normalizeOsFamily } from './os-family.js';
import { missingOsError, noOsError } from './report-errors.js';
import type { ParseReportOptions } from './parse-report-options.js';
import type { LanguagePackageFinding, UpdateManifest } from './types.js';

/** The update manifest versions copa reads. */
export const updateManifestApiVersions = ['v1alpha1', 'v1alpha2'] as const;

export interface ParseUpdateManifestOptions extends ParseReportOptions {
  /** The scanner named in the result: `native`, or the plugin's name. */
  readonly scanner?: string;
}

/** Reports whether a parsed JSON document carries a string `apiVersion`. */
export function isUpdateManifestDocument(doc: unknown): boolean {
  return isJsonObject(doc) && typeof doc.apiVersion === 'string';
}

/**
 * Normalises a parsed update manifest. An empty `fixedVersion` makes the entry unfixable.
 *
 * Throws a `CopaError`: `REPORT_FORMAT_UNSUPPORTED` for a missing or unknown `apiVersion`,
 * `REPORT_INVALID` for entries without a package name, `OS_UNSUPPORTED` for an OS copa does not
 * patch.
 */
export function parseUpdateManifest(
  doc: unknown,
  options: ParseUpdateManifestOptions,
): UpdateManifest {
  const { source } = options;
  const apiVersion = isJsonObject(doc) ? doc.apiVersion : undefined;
  if (!isJsonObject(doc) || !updateManifestApiVersions.some((v) => v === apiVersion)) {
    throw new CopaError(
      'REPORT_FORMAT_UNSUPPORTED',
      `reading update manifest "${source}": ` +
        `unsupported apiVersion ${JSON.stringify(apiVersion ?? null)}`,
      { hint: 'An update manifest needs "apiVersion": "v1alpha1" or "v1alpha2".' },
    );
  }
  const legacy = apiVersion === 'v1alpha1';
  const updates = objects(arrayField(doc, legacy ? 'updates' : 'osupdates'));
  const key = legacy ? 'updates' : 'osupdates';
  const findings = updates.map((u, i) => toOsFinding(u, `${key}[${i}]`, source));
  // copa's own output lists findings without a fix under `unfixable`.
  objects(arrayField(doc, 'unfixable')).forEach((u, i) => {
    findings.push({ ...toOsFinding(u, `unfixable[${i}]`, source), fixedVersions: [] });
  });
  const languagePackages = legacy
    ? []
    : objects(arrayField(doc, 'langupdates')).map((u, i) =>
        toLanguageFinding(u, `langupdates[${i}]`, source),
      );

  const metadata = objectField(doc, 'metadata');
  const os = objectField(metadata, 'os');
  const type = stringField(os, 'type');
  if (type === '') {
    if (findings.length > 0) throw missingOsError(source, 'metadata.os.type');
    throw noOsError(source);
  }
  return buildUpdateManifest({
    source,
    scanner: options.scanner ?? 'native',
    os: { family: normalizeOsFamily(type, source), version: stringField(os, 'version') },
    platform: platformOf(objectField(metadata, 'config'), objectField(doc, 'platform')),
    findings,
    languagePackages,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

function requireName(entry: JsonObject, where: string, source: string): string {
  const name = stringField(entry, 'name');
  if (name !== '') return name;
  throw new CopaError(
    'REPORT_INVALID',
    `reading update manifest "${source}": ${where} has no package name`,
    {
      hint: 'Every update needs "name", "installedVersion", "fixedVersion" and "vulnerabilityID".',
    },
  );
}

function toOsFinding(entry: JsonObject, where: string, source: string): OsFinding {
  const arch = stringField(entry, 'arch');
  return {
    name: requireName(entry, where, source),
    installedVersion: stringField(entry, 'installedVersion'),
    fixedVersions: splitFixedVersions(stringField(entry, 'fixedVersion')),
    vulnerabilityId: stringField(entry, 'vulnerabilityID'),
    ...(arch ? { arch } : {}),
  };
}

function toLanguageFinding(
  entry: JsonObject,
  where: string,
  source: string,
): LanguagePackageFinding {
  const fixedVersion = stringField(entry, 'fixedVersion');
  return {
    type: stringField(entry, 'type') || 'unknown',
    target: stringField(entry, 'pkgPath'),
    name: requireName(entry, where, source),
    installedVersion: stringField(entry, 'installedVersion'),
    ...(fixedVersion ? { fixedVersion } : {}),
    vulnerabilityId: stringField(entry, 'vulnerabilityID'),
  };
}

/** `metadata.config.arch` and `variant`; copa's own output also carries a full `platform`. */
function platformOf(
  config: JsonObject | undefined,
  platform: JsonObject | undefined,
): Platform | undefined {
  const architecture = stringField(platform, 'architecture') || stringField(config, 'arch');
  if (architecture === '') return undefined;
  const variant = stringField(platform, 'variant') || stringField(config, 'variant');
  return normalizePlatform({
    os: stringField(platform, 'os') || 'linux',
    architecture,
    ...(variant ? { variant } : {}),
  });
}
