import { CopaError, type ErrorCode } from '../errors.js';

/** The most bytes of an error response body read to find the registry's error codes. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Query parameters kept in URLs shown to users; every other value may be a secret. */
const safeQueryKeys = new Set(['digest', 'mount', 'from', 'n', 'last', 'scope', 'service']);

export interface RegistryErrorDetails {
  method: string;
  /** The request URL. It is redacted before it is stored. */
  url: string;
  status?: number;
  /** The `code`s of the distribution-spec error body, such as `MANIFEST_UNKNOWN`. */
  registryCodes?: readonly string[];
  hint?: string;
  cause?: unknown;
}

/**
 * A failed registry request. Carries the method, the redacted URL, the HTTP status and the
 * error codes from the registry's error body (distribution-spec "Error Codes").
 */
export class RegistryError extends CopaError {
  readonly method: string;
  readonly url: string;
  readonly status: number | undefined;
  readonly registryCodes: readonly string[];

  constructor(code: ErrorCode, message: string, details: RegistryErrorDetails) {
    super(code, message, { hint: details.hint, cause: details.cause });
    this.name = 'RegistryError';
    this.method = details.method;
    this.url = redactUrl(details.url);
    this.status = details.status;
    this.registryCodes = details.registryCodes ?? [];
  }
}

/** Removes user info and the values of query parameters that may carry secrets. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/\?.*$/, '?REDACTED');
  }
  parsed.username = '';
  parsed.password = '';
  for (const key of [...parsed.searchParams.keys()]) {
    if (!safeQueryKeys.has(key)) parsed.searchParams.set(key, 'REDACTED');
  }
  return parsed.toString();
}

/** One entry of a distribution-spec error body. */
export interface RegistryErrorEntry {
  code: string;
  message?: string;
}

/** Reads the `errors` of a distribution-spec error body; anything else gives an empty list. */
export function parseErrorBody(body: Uint8Array): RegistryErrorEntry[] {
  try {
    const json = JSON.parse(new TextDecoder().decode(body)) as { errors?: unknown };
    if (!Array.isArray(json.errors)) return [];
    return json.errors
      .filter((e): e is { code: string; message?: unknown } => typeof e?.code === 'string')
      .map((e) => ({
        code: e.code,
        ...(typeof e.message === 'string' && { message: e.message.slice(0, 200) }),
      }));
  } catch {
    return [];
  }
}

/** Maps an HTTP status to the error code copa reports for it. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'REGISTRY_UNAUTHORIZED';
  if (status === 403) return 'REGISTRY_DENIED';
  if (status === 404) return 'REGISTRY_NOT_FOUND';
  return 'REGISTRY_ERROR';
}
