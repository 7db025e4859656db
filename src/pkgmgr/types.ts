/**
 * The contract between package managers and the rest of copa. Package managers never see images
 * or registries: they read the image's merged file system through a {@link FileTree} and return
 * the entries of one new layer.
 */
import type { Logger } from '../log.js';
import type { LayerEntry } from '../layer/types.js';

/** One file of the image's merged file system, as a reader returns it. */
export interface TreeFile {
  readonly path: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Link target for symlinks and hard links. */
  readonly target?: string;
  /** Content of regular files (only the files asked for are read). */
  readonly content?: Uint8Array;
}

/**
 * Read access to an image's merged file system (all layers, whiteouts applied). Paths are
 * relative, without a leading `/` (`var/lib/dpkg/status`).
 */
export interface FileTree {
  /**
   * Returns the files whose paths `select` accepts, reading their content. One call streams the
   * layers once, so callers ask for everything they need at once.
   */
  readFiles(select: (path: string) => boolean): Promise<ReadonlyMap<string, TreeFile>>;
}

/** What one package manager run asks for: the packages to update, or every upgradable one. */
export type UpdateRequest =
  | { readonly kind: 'packages'; readonly packages: readonly RequestedUpdate[] }
  | { readonly kind: 'all' };

export interface RequestedUpdate {
  readonly name: string;
  /** The version the report requires; the chosen version must be at least this. */
  readonly fixedVersion: string;
}

export interface UpdatedPackage {
  readonly name: string;
  readonly arch: string;
  /** `undefined` for a package newly installed to satisfy a dependency. */
  readonly fromVersion: string | undefined;
  readonly toVersion: string;
}

export interface FailedPackage {
  readonly name: string;
  readonly fixedVersion: string;
  /** One line, shaped like an error message. */
  readonly reason: string;
}

/** The result of planning and unpacking the updates of one platform. */
export interface PackagePatch {
  /** Entries of the patch layer: new files, whiteouts and the updated package database. */
  readonly entries: readonly LayerEntry[];
  readonly updated: readonly UpdatedPackage[];
  readonly failed: readonly FailedPackage[];
  /** Packages on hold that were left alone. */
  readonly held: readonly string[];
  /** Updated packages whose maintainer scripts would have done more than unpack files. */
  readonly scriptsNotRun: readonly { readonly name: string; readonly scripts: readonly string[] }[];
}

export interface PackagePatchOptions {
  readonly tree: FileTree;
  readonly request: UpdateRequest;
  /** Directory for downloads and indexes, shared by platforms and runs. */
  readonly cacheDir: string;
  /** Scratch directory of this run, removed by the caller afterwards. */
  readonly workDir: string;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}
