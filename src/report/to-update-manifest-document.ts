import type { Platform } from '../image/index.js';
import type { UpdateManifest } from './types.js';

/** One entry of `osupdates` / `langupdates` in Copa's v1alpha2 update manifest. */
export interface UpdateManifestEntry {
  readonly name: string;
  readonly installedVersion: string;
  readonly fixedVersion: string;
  readonly vulnerabilityID: string;
  readonly type: string;
  readonly class: 'os-pkgs' | 'lang-pkgs';
  /** copa's addition: the package architecture the scanner reported. */
  readonly arch?: string;
  /** copa's addition: where a language package was found. */
  readonly pkgPath?: string;
}

/**
 * Copa's v1alpha2 update manifest, as plugins print it, with copa's additions (which Copa
 * ignores): the full `platform` and the `unfixable` findings.
 */
export interface UpdateManifestDocument {
  readonly apiVersion: 'v1alpha2';
  readonly metadata: {
    readonly os: { readonly type: string; readonly version: string };
    readonly config: { readonly arch: string; readonly variant?: string };
  };
  readonly platform?: Platform;
  readonly osupdates: readonly UpdateManifestEntry[];
  readonly langupdates: readonly UpdateManifestEntry[];
  readonly unfixable: readonly {
    readonly name: string;
    readonly installedVersion: string;
    readonly vulnerabilityID: string;
  }[];
}

/**
 * Writes a normalised manifest in Copa's v1alpha2 shape: one `osupdates` entry per package and
 * vulnerability, each with the package's required version, so reading it back with
 * `--scanner native` gives the same updates.
 */
export function toUpdateManifestDocument(manifest: UpdateManifest): UpdateManifestDocument {
  const { platform } = manifest;
  return {
    apiVersion: 'v1alpha2',
    metadata: {
      os: { type: manifest.os.family, version: manifest.os.version },
      config: {
        arch: platform?.architecture ?? '',
        ...(platform?.variant ? { variant: platform.variant } : {}),
      },
    },
    ...(platform ? { platform } : {}),
    osupdates: manifest.updates.flatMap((u) =>
      u.vulnerabilityIds.map((id) => ({
        name: u.name,
        installedVersion: u.installedVersion,
        fixedVersion: u.fixedVersion,
        vulnerabilityID: id,
        type: manifest.os.family,
        class: 'os-pkgs' as const,
        ...(u.arch ? { arch: u.arch } : {}),
      })),
    ),
    langupdates: manifest.languagePackages.map((f) => ({
      name: f.name,
      installedVersion: f.installedVersion,
      fixedVersion: f.fixedVersion ?? '',
      vulnerabilityID: f.vulnerabilityId,
      type: f.type,
      class: 'lang-pkgs' as const,
      ...(f.target ? { pkgPath: f.target } : {}),
    })),
    unfixable: manifest.unfixable.map((f) => ({
      name: f.name,
      installedVersion: f.installedVersion,
      vulnerabilityID: f.vulnerabilityId,
    })),
  };
}
