import type { Platform } from '../image/types.js';

/** OS families copa knows, normalised from the names scanners use. */
export type OsFamily =
  | 'debian'
  | 'ubuntu'
  | 'alpine'
  | 'redhat'
  | 'centos'
  | 'rocky'
  | 'alma'
  | 'oracle'
  | 'amazon'
  | 'cbl-mariner'
  | 'azurelinux'
  | 'sles'
  | 'opensuse-leap'
  | 'opensuse-tumbleweed'
  | 'photon'
  | 'fedora'
  | 'wolfi'
  | 'chainguard';

/** One OS package to bring to at least `fixedVersion`. */
export interface PackageUpdate {
  readonly name: string;
  readonly installedVersion: string;
  readonly fixedVersion: string;
  /** The vulnerabilities this update closes, sorted. */
  readonly vulnerabilityIds: readonly string[];
  /** Architecture as the scanner wrote it, when it did (`arm64`, `aarch64`, `all`). */
  readonly arch?: string;
}

/** A finding the report names with no fixed version. */
export interface UnfixableFinding {
  readonly name: string;
  readonly installedVersion: string;
  readonly vulnerabilityId: string;
}

/** Language-package findings: kept in the model, not acted on yet. */
export interface LanguagePackageFinding {
  readonly type: string;
  readonly target: string;
  readonly name: string;
  readonly installedVersion: string;
  readonly fixedVersion?: string;
  readonly vulnerabilityId: string;
}

/**
 * One report, normalised: what copa acts on for one platform. The same package named by several
 * vulnerabilities is one update to the highest required version.
 */
export interface UpdateManifest {
  /** The file it was read from. */
  readonly source: string;
  readonly scanner: string;
  readonly os: { readonly family: OsFamily; readonly version: string };
  /** The platform the report names, or `undefined` when it names none. */
  readonly platform?: Platform;
  readonly updates: readonly PackageUpdate[];
  readonly unfixable: readonly UnfixableFinding[];
  readonly languagePackages: readonly LanguagePackageFinding[];
}
