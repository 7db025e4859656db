import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Attempts in all, the first included. Default 5. */
  attempts?: number;
  /** Delay before the second attempt; it doubles each time, with jitter. Default 250 ms. */
  baseDelayMs?: number;
  /** Longest delay between attempts, `Retry-After` included. Default 30 s. */
  maxDelayMs?: number;
}

export interface ResolvedRetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export function resolveRetryPolicy(policy: RetryPolicy = {}): ResolvedRetryPolicy {
  const resolved = {
    attempts: policy.attempts ?? 5,
    baseDelayMs: policy.baseDelayMs ?? 250,
    maxDelayMs: policy.maxDelayMs ?? 30_000,
  };
  if (!Number.isInteger(resolved.attempts) || resolved.attempts < 1) {
    throw new RangeError(`retry.attempts must be an integer >= 1, got ${policy.attempts}`);
  }
  return resolved;
}

/** Network error codes worth another attempt: the connection dropped or timed out. */
const transientCodes = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** The first network error code in an error's cause chain. */
export function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (
      typeof e.code === 'string' &&
      /^(E[A-Z]+|UND_ERR_[A-Z_]+|ERR_SSL_[A-Z_0-9]+)$/.test(e.code)
    ) {
      return e.code;
    }
  }
  return undefined;
}

/** Reports whether a network error is transient. */
export function isTransientNetworkError(err: unknown): boolean {
  const code = networkCode(err);
  return code !== undefined && transientCodes.has(code);
}

/** Reports whether an HTTP status is worth another attempt (429 and 5xx except 501). */
export function isTransientStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501 && status <= 599);
}

/** Milliseconds a `Retry-After` header asks for (seconds or an HTTP date), if any. */
export function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Waits before attempt `attempt + 1` (attempt counts from 1). */
export async function backoff(
  policy: ResolvedRetryPolicy,
  attempt: number,
  options: { retryAfterMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const exponential = policy.baseDelayMs * 2 ** (attempt - 1);
  const jittered = exponential / 2 + Math.random() * (exponential / 2);
  const delay = Math.min(policy.maxDelayMs, Math.max(options.retryAfterMs ?? 0, jittered));
  await sleep(delay, undefined, options.signal ? { signal: options.signal } : undefined);
}
