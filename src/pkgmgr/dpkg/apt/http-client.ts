/**
 * The HTTP side of apt: GET requests over undici with redirects, retries of transient failures
 * with bounded backoff, proxies, and downloads streamed to a file while their hash is checked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { Agent, EnvHttpProxyAgent, interceptors, request, type Dispatcher } from 'undici';

import { CopaError } from '../../../errors.js';
import type { Logger } from '../../../log.js';

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const ATTEMPTS = 4;
const BASE_DELAY_MS = 250;
const MAX_DELAY_MS = 5000;
const MAX_REDIRECTS = 5;

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Must be consumed or dumped. */
  readonly body: Dispatcher.ResponseData['body'];
}

export interface HttpClientOptions {
  readonly dispatcher?: Dispatcher;
  /** The image's apt proxies, used when the environment sets none. */
  readonly proxy?: { readonly http?: string; readonly https?: string };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
}

/** A GET client with retries; `close()` closes the agent it made (not one passed in). */
export class HttpClient {
  private readonly dispatcher: Dispatcher;
  private readonly owned: Dispatcher | undefined;
  private readonly logger: Logger;

  constructor(options: HttpClientOptions) {
    this.logger = options.logger;
    this.owned = options.dispatcher === undefined ? makeAgent(options) : undefined;
    const base = options.dispatcher ?? this.owned!;
    this.dispatcher = base.compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTS }));
  }

  /**
   * Sends a GET, retrying network errors and transient statuses. Any other status, 404
   * included, is returned. Throws `REPOSITORY_UNAVAILABLE` when retries run out.
   */
  async get(
    url: string,
    options: { headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<HttpResponse> {
    let lastReason = '';
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      options.signal?.throwIfAborted();
      let delay = backoff(attempt);
      try {
        this.logger.debug(`GET "${redact(url)}"`);
        const res = await request(url, {
          method: 'GET',
          headers: options.headers,
          signal: options.signal,
          dispatcher: this.dispatcher,
        });
        if (!RETRY_STATUSES.has(res.statusCode))
          return { status: res.statusCode, headers: res.headers, body: res.body };
        await res.body.dump().catch(() => undefined);
        lastReason = `HTTP status ${res.statusCode}`;
        delay = Math.max(delay, retryAfterMs(res.headers['retry-after']));
      } catch (err) {
        if (options.signal?.aborted) throw err;
        lastReason = (err as Error).message;
        if (isPermanent(err)) break;
      }
      if (attempt < ATTEMPTS) {
        this.logger.debug(`retrying "${redact(url)}" in ${delay} ms: ${lastReason}`);
        await sleep(delay, options.signal);
      }
    }
    throw unavailable(url, lastReason);
  }

  /** GETs a small file into memory; `undefined` on 404 or 410. */
  async getBytes(
    url: string,
    options: { headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<{ status: number; headers: HttpResponse['headers']; bytes: Buffer } | undefined> {
    const res = await this.get(url, options);
    if (res.status === 404 || res.status === 410) {
      await res.body.dump();
      return undefined;
    }
    if (res.status !== 200 && res.status !== 304) {
      await res.body.dump();
      throw unavailable(url, `HTTP status ${res.status}`);
    }
    const bytes = Buffer.from(await res.body.arrayBuffer());
    return { status: res.status, headers: res.headers, bytes };
  }

  /**
   * Downloads `url` to `dest` (via a temporary file in the same directory and a rename, so
   * concurrent writers are safe), checking size and SHA-256 while streaming. A broken
   * connection is retried; a hash mismatch throws `REPOSITORY_HASH_MISMATCH`, a 404
   * `REPOSITORY_UNAVAILABLE`.
   */
  async download(
    url: string,
    dest: string,
    expected: { sha256: string; sizeBytes: number; signal?: AbortSignal },
  ): Promise<void> {
    await fs.mkdir(path.dirname(dest), { recursive: true });
    for (let attempt = 1; ; attempt++) {
      const temp = `${dest}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await this.downloadOnce(url, temp, expected);
        await fs.rename(temp, dest);
        return;
      } catch (err) {
        await fs.rm(temp, { force: true });
        if (err instanceof CopaError || expected.signal?.aborted || attempt >= ATTEMPTS) {
          throw err instanceof CopaError || expected.signal?.aborted
            ? err
            : unavailable(url, (err as Error).message);
        }
        this.logger.debug(`retrying "${redact(url)}": ${(err as Error).message}`);
        await sleep(backoff(attempt), expected.signal);
      }
    }
  }

  private async downloadOnce(
    url: string,
    temp: string,
    expected: { sha256: string; sizeBytes: number; signal?: AbortSignal },
  ): Promise<void> {
    const res = await this.get(url, { signal: expected.signal });
    if (res.status !== 200) {
      await res.body.dump();
      throw unavailable(url, `HTTP status ${res.status}`);
    }
    const hash = createHash('sha256');
    let size = 0;
    const check = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > expected.sizeBytes) {
          done(mismatch(url, `more than the expected ${expected.sizeBytes} bytes`));
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(res.body, check, createWriteStream(temp), { signal: expected.signal });
    if (size !== expected.sizeBytes) {
      // A short body is a broken transfer; the caller retries it.
      throw new Error(`received ${size} of ${expected.sizeBytes} bytes`);
    }
    const digest = hash.digest('hex');
    if (digest !== expected.sha256) {
      throw mismatch(url, `SHA-256 is "${digest}", the index says "${expected.sha256}"`);
    }
  }

  async close(): Promise<void> {
    await this.owned?.close();
  }
}

// TODO: the image's per-host `Acquire::http::Proxy::<host>` settings and `auth.conf` credentials
// are not read; such mirrors need the proxy in the environment or the credentials in the URI.
function makeAgent(options: HttpClientOptions): Dispatcher {
  const env = options.env;
  const httpProxy = env['http_proxy'] ?? env['HTTP_PROXY'] ?? '';
  const httpsProxy = env['https_proxy'] ?? env['HTTPS_PROXY'] ?? '';
  const noProxy = env['no_proxy'] ?? env['NO_PROXY'] ?? '';
  if (httpProxy !== '' || httpsProxy !== '') {
    return new EnvHttpProxyAgent({ httpProxy, httpsProxy, noProxy });
  }
  const image = options.proxy;
  if (image?.http !== undefined || image?.https !== undefined) {
    options.logger.debug('using the proxy of the image apt configuration');
    return new EnvHttpProxyAgent({
      httpProxy: image.http ?? '',
      httpsProxy: image.https ?? image.http ?? '',
      noProxy,
    });
  }
  return new Agent();
}

/** Certificate errors do not go away by asking again. */
function isPermanent(err: unknown): boolean {
  const code = String((err as { code?: unknown }).code ?? '');
  return code.startsWith('ERR_TLS_') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code);
}

function backoff(attempt: number): number {
  return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1));
}

function retryAfterMs(value: string | string[] | undefined): number {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return 0;
  const seconds = Number(text);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(text) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_DELAY_MS * 2) : 0;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** Removes credentials from a URL for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '***';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

function unavailable(url: string, reason: string): CopaError {
  return new CopaError('REPOSITORY_UNAVAILABLE', `fetching "${redact(url)}": ${reason}`, {
    hint: 'Check that the mirror is reachable from this host, or set another mirror.',
  });
}

function mismatch(url: string, reason: string): CopaError {
  return new CopaError('REPOSITORY_HASH_MISMATCH', `fetching "${redact(url)}": ${reason}`, {
    hint: 'The mirror may be syncing or tampered with; try again later or use another mirror.',
  });
}
