/**
 * The nouns of apt: the image's sources, the repositories opened from them and the package
 * records of their `Packages` indexes.
 */
import type { Dispatcher } from 'undici';

import type { Logger } from '../../../log.js';
import type { RelationGroups } from './relations.js';

/** The fields of `/etc/os-release` that choose default sources (lower-case `ID`). */
export interface OsRelease {
  readonly id: string;
  readonly versionId?: string;
  readonly versionCodename?: string;
}

/** Key material apt trusts, as found in the image, in a sources entry or on the host. */
export type KeySource =
  /** A keyring file, binary OpenPGP packets or ASCII-armored; `path` is where it was read. */
  | { readonly kind: 'file'; readonly path: string; readonly data: Uint8Array }
  /** An armored key block written inline in a deb822 `Signed-By` field. */
  | { readonly kind: 'inline'; readonly path: string; readonly armored: string }
  /** A `Signed-By` fingerprint, naming a key among the trusted keyrings. */
  | { readonly kind: 'fingerprint'; readonly fingerprint: string }
  /** A `Signed-By` path that the image does not contain. */
  | { readonly kind: 'missing'; readonly path: string };

/** One `deb` entry of the sources, expanded to a single suite. */
export interface AptSource {
  /** Base URI without a trailing slash (`http://mirror.example/debian`). */
  readonly uri: string;
  /** The suite (`bookworm-security`), or for a flat repository a path ending in `/`. */
  readonly suite: string;
  /** Components; empty for a flat repository. */
  readonly components: readonly string[];
  /** The `arch=` / `Architectures` restriction, when given. */
  readonly architectures?: readonly string[];
  /** The `signed-by=` / `Signed-By` keys; without it the trusted keyrings apply. */
  readonly signedBy?: readonly KeySource[];
  /** `check-valid-until=no` / `Check-Valid-Until: no` turns the expiry check off. */
  readonly checkValidUntil?: boolean;
  /** Where the entry was read, for messages (`etc/apt/sources.list:3`). */
  readonly from: string;
}

/** What the image's `/etc/apt` says about where packages come from. */
export interface AptConfig {
  readonly osRelease: OsRelease;
  /** Enabled `deb` sources in file order; empty for images without sources (distroless). */
  readonly sources: readonly AptSource[];
  /** Keys of `etc/apt/trusted.gpg` and `etc/apt/trusted.gpg.d/*`, for sources without Signed-By. */
  readonly trustedKeys: readonly KeySource[];
  /** `Acquire::http::Proxy` and `Acquire::https::Proxy` from `etc/apt/apt.conf.d`. */
  readonly proxy?: { readonly http?: string; readonly https?: string };
  /** `Acquire::Check-Valid-Until`, when the image sets it. */
  readonly checkValidUntil?: boolean;
}

/**
 * Mirrors for the distributions' archives, by base URI. A user setting (option, environment or
 * config file) or, by default, what the host's own apt sources use.
 */
export interface MirrorSettings {
  /** The Debian archive (suites `<codename>`, `<codename>-updates`). */
  readonly debian?: string;
  /** The Debian security archive (suite `<codename>-security`). */
  readonly debianSecurity?: string;
  /** The Ubuntu archive for amd64 and i386, also used for `-security` unless set apart. */
  readonly ubuntu?: string;
  /** The Ubuntu ports archive for the other architectures. */
  readonly ubuntuPorts?: string;
  /** The Ubuntu security archive. */
  readonly ubuntuSecurity?: string;
}

/** User settings that change the image's sources (air-gapped mirrors, extra suites and keys). */
export interface RepositoryOverrides {
  /** Replaces the URI of the distribution's main archive. */
  readonly mirror?: string;
  /** Replaces the URI of the distribution's security archive. */
  readonly securityMirror?: string;
  /**
   * Extra sources: a suite name (served by the main archive with the same components) or a whole
   * one-line entry (`deb [signed-by=/path] URI suite comp...`, paths on the host).
   */
  readonly extraSuites?: readonly string[];
  /** Host keyring files trusted for every source, in addition to its own keys. */
  readonly keyrings?: readonly string[];
}

/** Repository metadata of one suite and component, shared by its package records. */
export interface RepositoryOrigin {
  readonly uri: string;
  readonly suite: string;
  /** Empty for a flat repository. */
  readonly component: string;
  /** `Origin`, `Label` and `Codename` from the Release file. */
  readonly origin?: string;
  readonly label?: string;
  readonly codename?: string;
  /** apt's default pin priority: 500, 100 (`ButAutomaticUpgrades`) or 1 (`NotAutomatic`). */
  readonly priority: number;
}

/** The `Multi-Arch` value; `no` when the field is absent. */
export type MultiArch = 'no' | 'same' | 'foreign' | 'allowed';

/** One stanza of a `Packages` index. Relation fields are parsed on first access. */
export interface PackageRecord {
  readonly name: string;
  readonly version: string;
  /** A dpkg architecture (`amd64`, `arm64`, `armhf`) or `all`. */
  readonly architecture: string;
  readonly multiArch: MultiArch;
  /** The source package name; the package's own name when `Source` is absent. */
  readonly source: string;
  /** The source version, from `Source: name (version)`; else the package version. */
  readonly sourceVersion: string;
  readonly essential: boolean;
  readonly protected: boolean;
  readonly priority?: string;
  readonly section?: string;
  readonly installedSizeKiB?: number;
  readonly depends: RelationGroups;
  readonly preDepends: RelationGroups;
  readonly recommends: RelationGroups;
  readonly provides: RelationGroups;
  readonly breaks: RelationGroups;
  readonly conflicts: RelationGroups;
  readonly replaces: RelationGroups;
  /** Path of the `.deb` below the origin's URI. */
  readonly filename: string;
  readonly sizeBytes: number;
  /** Lower-case hex SHA-256 of the `.deb`. */
  readonly sha256: string;
  readonly origin: RepositoryOrigin;
  /**
   * The raw value of a stanza field by case-insensitive name. Only the fields the properties
   * above come from are kept, plus `Suggests`, `Enhances` and `Built-Using`; others give
   * `undefined`.
   */
  field(name: string): string | undefined;
}

/** The packages of all the sources of one image and architecture, opened and verified. */
export interface AptRepositories {
  /** The native dpkg architecture the indexes were read for. */
  readonly arch: string;
  readonly origins: readonly RepositoryOrigin[];
  /** Every version of `name` across all sources and architectures, in no particular order. */
  packages(name: string): readonly PackageRecord[];
  /** Packages whose `Provides` names `virtual`. */
  providers(virtual: string): readonly PackageRecord[];
  /**
   * The version apt would choose for `name` on `arch` (default: native; `all` packages count for
   * every architecture) without pins: highest origin priority, then highest version.
   */
  candidate(name: string, arch?: string): PackageRecord | undefined;
  /**
   * Downloads the `.deb` into the cache (once per hash; concurrent calls share one download)
   * and returns its path. Throws `REPOSITORY_HASH_MISMATCH` when size or SHA-256 differ from the
   * index, `REPOSITORY_UNAVAILABLE` when it cannot be fetched. The signal defaults to the one
   * the repositories were opened with.
   */
  download(record: PackageRecord, options?: { readonly signal?: AbortSignal }): Promise<string>;
  /** Closes the HTTP agent made for these repositories (a passed-in dispatcher stays open). */
  close(): Promise<void>;
}

/** Options of `openRepositories`. */
export interface OpenRepositoriesOptions {
  /** The image's native dpkg architecture (`amd64`, `arm64`, `armhf`). */
  readonly arch: string;
  /** Foreign architectures enabled in the image (`/var/lib/dpkg/arch`), if any. */
  readonly foreignArchitectures?: readonly string[];
  /** Directory shared by runs and platforms; `apt/` and `debs/` are created below it. */
  readonly cacheDir: string;
  readonly overrides?: RepositoryOverrides;
  /** Mirrors for default sources; when absent, read from `env`, the config file and the host. */
  readonly mirrors?: MirrorSettings;
  /** Environment for `COPA_*_MIRROR` and proxy variables (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The copa config file (default `~/.config/copa/config.json`). */
  readonly configFile?: string;
  /** Root of the host file system for its apt sources and keyrings (default `/`). */
  readonly hostRoot?: string;
  /** Parsed indexes shared across calls in this process (one per run). */
  readonly indexCache?: IndexCacheLike;
  /** How long a cached InRelease is used without asking the server again (default 10 min). */
  readonly releaseMaxAgeMs?: number;
  /** Check `Valid-Until` of Release files (default: the image's setting, else true). */
  readonly checkValidUntil?: boolean;
  /** HTTP transport; default a pooled agent honouring the proxy settings. */
  readonly dispatcher?: Dispatcher;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

/**
 * A store of parsed indexes, created with `createIndexCache()` (a `Map` will do). Keys are the
 * index's SHA-256 and its origin, so platforms with the same sources and architecture parse each
 * index once.
 */
export interface IndexCacheLike {
  get(key: string): Promise<readonly PackageRecord[]> | undefined;
  set(key: string, records: Promise<readonly PackageRecord[]>): void;
  delete(key: string): void;
}
