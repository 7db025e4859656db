/**
 * Stable error codes. Codes are API: they are documented in docs/errors.md and never renamed.
 * New codes are appended.
 */
export type ErrorCode =
  | 'USAGE'
  | 'INTERNAL'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'REFERENCE_INVALID'
  | 'REGISTRY_UNAUTHORIZED'
  | 'REGISTRY_DENIED'
  | 'REGISTRY_NOT_FOUND'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_ERROR'
  | 'CREDENTIALS_INVALID'
  | 'DIGEST_MISMATCH'
  | 'MANIFEST_INVALID'
  | 'MEDIA_TYPE_UNSUPPORTED'
  | 'PLATFORM_NOT_FOUND'
  | 'PLATFORM_UNSUPPORTED'
  | 'LAYOUT_INVALID'
  | 'ARCHIVE_INVALID'
  | 'DAEMON_UNAVAILABLE'
  | 'DAEMON_ERROR'
  | 'LAYER_INVALID'
  | 'REPORT_INVALID'
  | 'REPORT_FORMAT_UNSUPPORTED'
  | 'REPORT_CONFLICT'
  | 'REPORT_PLATFORM_UNKNOWN'
  | 'OS_UNSUPPORTED'
  | 'PLUGIN_FAILED'
  | 'REPOSITORY_UNAVAILABLE'
  | 'REPOSITORY_UNVERIFIED'
  | 'REPOSITORY_HASH_MISMATCH'
  | 'MIRROR_UNCONFIGURED'
  | 'PACKAGE_DATABASE_MISSING'
  | 'PACKAGE_DATABASE_INVALID'
  | 'PACKAGE_INVALID'
  | 'PACKAGE_FIX_UNAVAILABLE'
  | 'RESOLUTION_FAILED'
  | 'PATCH_VERIFICATION_FAILED'
  | 'PATCH_FAILED'
  | 'VEX_INVALID'
  | 'REPOSITORY_CONFIG_INVALID';

export interface CopaErrorOptions {
  /** The remedy, as a full sentence the user can act on. */
  hint?: string;
  cause?: unknown;
}

/**
 * The one base class of copa's errors. The message names the failed action and its object, then
 * the reason (`resolving "openssl" for linux/arm64: no version >= 3.0.13-1 in the repositories`).
 */
export class CopaError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: CopaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CopaError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** Reports whether `err` is a {@link CopaError}, optionally with one of the given codes. */
export function isCopaError(err: unknown, ...codes: ErrorCode[]): err is CopaError {
  return err instanceof CopaError && (codes.length === 0 || codes.includes(err.code));
}

/**
 * Adds context to an error with a gerund prefix, keeping its code and hint when it is already a
 * {@link CopaError} (`pushing "ghcr.io/acme/app:1.2": <reason>`).
 */
export function wrapError(
  context: string,
  err: unknown,
  fallback: ErrorCode = 'INTERNAL',
): CopaError {
  if (err instanceof CopaError) {
    return new CopaError(err.code, `${context}: ${err.message}`, { hint: err.hint, cause: err });
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new CopaError(fallback, `${context}: ${reason}`, { cause: err });
}
