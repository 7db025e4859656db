import type { Platform } from '../image/types.js';
import type { Compression } from '../layer/types.js';
import type { RepositoryOverrides } from '../pkgmgr/dpkg/apt/index.js';

/** How transfers are shown: bars (`tty`), one line per transfer (`plain`), or not at all. */
export type ProgressMode = 'auto' | 'plain' | 'tty' | 'quiet';

/** Where an image is loaded when it is not pushed. */
export type ImageLoader = 'docker' | 'podman';

/**
 * The validated options of `copa patch`, named after Copa's flags. Values are checked and
 * normalised by the CLI: references are still text (the patch code parses them), platforms are
 * parsed, durations are milliseconds, and defaults are filled in.
 */
export interface PatchCommandOptions {
  /** `-i, --image`: the image to patch, a tag or digest reference as typed. */
  readonly image: string;
  /** `-r, --report`: a report file (one platform) or directory (one report per platform). */
  readonly report: string | undefined;
  /** `-t, --tag`: a bare tag on the source repository, or a full reference with a tag. */
  readonly tag: string | undefined;
  /** `--tag-suffix`: used when `tag` is absent, giving `<source tag>-<suffix>`; never empty. */
  readonly tagSuffix: string;
  /** `-p, --push`: push the result to the registry instead of loading it locally. */
  readonly push: boolean;
  /** `--ignore-errors`: go on past invalid versions and failed platforms (Copa's scope). */
  readonly ignoreErrors: boolean;
  /** `--platform`: platforms to patch; empty means every platform of the image. */
  readonly platforms: readonly Platform[];
  /** `-s, --scanner`: `trivy`, `native`, or a plugin name (runs `copa-<name> <report>`). */
  readonly scanner: string;
  /** `-f, --format`: the VEX document format. */
  readonly format: 'openvex';
  /** `-o, --output`: where to write the VEX document; none is written when absent. */
  readonly output: string | undefined;
  /** `--timeout`: wall-clock limit of the whole run; the CLI aborts `signal` when it passes. */
  readonly timeoutMs: number;
  /** `-w, --working-folder`: a folder for temporary files; the system temp dir when absent. */
  readonly workingFolder: string | undefined;
  /** `-l, --loader`: the engine to load the result into; detected when absent. */
  readonly loader: ImageLoader | undefined;
  /** `--oci-dir`: also write the result as an OCI image layout into this directory. */
  readonly ociDir: string | undefined;
  /**
   * `--compression`: compression of the new layers. When the flag is absent this is
   * `uncompressed` for a local load or layout (as Copa) and `gzip` when pushing.
   */
  readonly compression: Compression;
  /** `--force-compression`: accepted for compatibility with Copa; not applied. */
  readonly forceCompression: boolean;
  /**
   * `--mirror`, `--security-mirror`, `--extra-suite`, `--keyring`: changes to the image's
   * package sources; empty when none of the flags is given.
   */
  readonly repositories: RepositoryOverrides;
  /** `--debug`: keep the working folder and log detail. */
  readonly debug: boolean;
}
