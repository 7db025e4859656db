import type { Logger } from '../log.js';
import type { Platform } from '../image/types.js';
import type { Compression } from '../layer/types.js';
import type { RepositoryOverrides } from '../pkgmgr/dpkg/apt/index.js';
import type { FailedPackage, UpdatedPackage } from '../pkgmgr/types.js';
import type { ProgressReporter } from '../progress.js';

/** The options of one patch run, named after `copa patch`'s flags. */
export interface PatchImageOptions {
  /** The image: a registry reference, `oci:DIR[:TAG]`, or a local daemon image. */
  readonly image: string;
  /** A report file (one platform) or directory (one report per platform); none: update all. */
  readonly report?: string | undefined;
  /** A bare tag on the source repository, or a full reference with a tag. */
  readonly tag?: string | undefined;
  /** Used when `tag` is absent: `<source tag>-<suffix>`; default `patched`. */
  readonly tagSuffix?: string | undefined;
  readonly push: boolean;
  readonly ignoreErrors: boolean;
  /** Platforms to patch without a report; empty or absent means all. */
  readonly platforms?: readonly Platform[] | undefined;
  /** `trivy`, `native`, or a plugin name. */
  readonly scanner: string;
  readonly format?: 'openvex' | undefined;
  /** Where the VEX document goes; none is written when absent. */
  readonly output?: string | undefined;
  /** A scratch folder; the system temp dir when absent. */
  readonly workingFolder?: string | undefined;
  readonly loader?: 'docker' | 'podman' | undefined;
  /** Where the result is written as an OCI layout when not pushing; default `./copa-oci`. */
  readonly ociDir?: string | undefined;
  /** Compression of the new layer. */
  readonly compression: Compression;
  /** Re-encode every layer to `compression` (not applied: existing layers are kept as they are). */
  readonly forceCompression?: boolean | undefined;
  /** Changes to the images' package sources: mirrors, extra suites, trusted keyrings. */
  readonly repositories?: RepositoryOverrides | undefined;
  /** Keep the working folder. */
  readonly debug?: boolean | undefined;
  /** Downloads shared by platforms and runs; default `$XDG_CACHE_HOME/copa` or `~/.cache/copa`. */
  readonly cacheDir?: string | undefined;
  /** How many platforms are patched at once; default 2. */
  readonly concurrency?: number | undefined;
}

/** What a run receives from its caller besides options. */
export interface PatchContext {
  readonly logger?: Logger;
  readonly progress?: ProgressReporter;
  /** Aborting it (the CLI does on `--timeout` and Ctrl-C) stops the run; no tag is written. */
  readonly signal?: AbortSignal;
}

/** How one platform ended. */
export type PlatformStatus = 'patched' | 'up to date' | 'kept: no report' | 'failed' | 'ignored';

export interface PlatformSummary {
  readonly platform: Platform;
  readonly status: PlatformStatus;
  /** Digest of the source manifest. */
  readonly sourceDigest: string;
  /** Digest of the result's manifest: the new one when patched, else the source's. */
  readonly digest: string | undefined;
  readonly updated: readonly UpdatedPackage[];
  readonly failed: readonly FailedPackage[];
  /** Vulnerability ids closed by the updates, by package name (for VEX). */
  readonly fixedVulnerabilities: readonly {
    readonly name: string;
    readonly ids: readonly string[];
  }[];
  readonly scriptsNotRun: readonly { readonly name: string; readonly scripts: readonly string[] }[];
  /** One line for the summary table (a failure's reason, say). */
  readonly message?: string;
}

/** The result of a run. */
export interface PatchSummary {
  /** The source as given. */
  readonly source: string;
  /** The result's name (`registry/repo:tag`, or `oci:DIR:TAG`); absent when nothing changed. */
  readonly target: string | undefined;
  /** Digest of the result's top manifest (index or image). */
  readonly digest: string | undefined;
  /** `target@digest` when a result was written. */
  readonly reference: string | undefined;
  readonly platforms: readonly PlatformSummary[];
  /** True when no platform needed an update: no image was written. */
  readonly upToDate: boolean;
  readonly pushed: boolean;
  /** The OCI layout written when not pushing. */
  readonly ociDir: string | undefined;
  /** Images loaded into docker or podman, by name. */
  readonly loaded: readonly string[];
  /** Commands to run by hand to publish a result that was not pushed. */
  readonly commands: readonly string[];
  /** Attestation manifests left out because the image they describe was replaced. */
  readonly droppedAttestations: readonly string[];
  /** The VEX document written, when asked for. */
  readonly vexFile: string | undefined;
}
