import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';

import { request, type Dispatcher } from 'undici';

import { CopaError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { registryApiHost } from '../reference/index.js';
import type { Authenticator } from './authenticator.js';
import { Limiter } from './limiter.js';
import {
  MAX_ERROR_BODY_BYTES,
  RegistryError,
  codeForStatus,
  parseErrorBody,
  redactUrl,
} from './registry-error.js';
import {
  backoff,
  isTransientNetworkError,
  isTransientStatus,
  networkCode,
  retryAfterMs,
  type ResolvedRetryPolicy,
} from './retry.js';
import { certificateErrorCode, type Transport } from './transport.js';

/** A repository on a registry: what a request is scoped to. */
export interface RepositoryName {
  readonly registry: string;
  readonly repository: string;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  repo: RepositoryName;
  /** A path under the API root (`/v2/…`), or an absolute URL such as an upload location. */
  target: string;
  headers?: Record<string, string>;
  /** Bytes, or a function opening a fresh stream for each attempt. */
  body?: Uint8Array | string | (() => AsyncIterable<Uint8Array>);
  /** Ask for push access to `repo` as well as pull. */
  push?: boolean;
  /** Further token scopes, such as pull access to the repository a blob is mounted from. */
  extraScopes?: readonly string[];
  /** Statuses that count as success. */
  expect: readonly number[];
  /** The action named in errors, such as `pulling manifest "x"`. */
  action: string;
  /** Hint for a 404, naming what is missing. */
  notFoundHint?: string;
  /** Retry transient failures (default true). */
  retry?: boolean;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Dispatcher.ResponseData['body'];
  /** The final URL, after redirects. */
  readonly url: URL;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
const maxRedirects = 5;

/**
 * Sends registry API requests: picks the endpoint, authorizes, follows redirects (without
 * `Authorization` across hosts), retries transient failures with backoff and turns failures
 * into {@link RegistryError}s.
 */
export class RegistryHttp {
  readonly transport: Transport;
  readonly auth: Authenticator;
  readonly #limiter: Limiter;
  readonly #uploadLimiter: Limiter;
  readonly #retry: ResolvedRetryPolicy;
  readonly #logger: Logger;
  readonly #signal: AbortSignal | undefined;
  readonly #warned = new Set<string>();

  constructor(options: {
    transport: Transport;
    auth: Authenticator;
    /** Requests in flight at once, of each kind: streamed uploads, and all others. */
    concurrency: number;
    retry: ResolvedRetryPolicy;
    logger?: Logger;
    signal?: AbortSignal;
  }) {
    this.transport = options.transport;
    this.auth = options.auth;
    // A streamed upload often reads its body from another request (a layer copied between
    // registries): separate slots keep uploads from waiting on the reads they carry.
    this.#limiter = new Limiter(options.concurrency);
    this.#uploadLimiter = new Limiter(options.concurrency);
    this.#retry = options.retry;
    this.#logger = options.logger ?? silentLogger;
    this.#signal = options.signal;
  }

  get retryPolicy(): ResolvedRetryPolicy {
    return this.#retry;
  }

  get logger(): Logger {
    return this.#logger;
  }

  /** Waits before another attempt of an operation made of several requests. */
  async pause(attempt: number, retryAfter?: number): Promise<void> {
    try {
      await backoff(this.#retry, attempt, {
        ...(retryAfter !== undefined && { retryAfterMs: retryAfter }),
        ...(this.#signal && { signal: this.#signal }),
      });
    } catch (err) {
      throw new CopaError('CANCELLED', 'waiting to retry a registry request: cancelled', {
        cause: err,
      });
    }
  }

  /**
   * Sends `req` and returns the response once its status is one of `req.expect`. The caller
   * must consume or dump the body.
   *
   * @throws {RegistryError} `REGISTRY_UNAUTHORIZED`, `REGISTRY_DENIED`, `REGISTRY_NOT_FOUND`,
   * `REGISTRY_UNREACHABLE` or `REGISTRY_ERROR`.
   */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const attempts = req.retry === false ? 1 : this.#retry.attempts;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#attempt(req);
      if ('error' in outcome) {
        const { error } = outcome;
        if (error instanceof CopaError) throw error;
        if (attempt >= attempts || !isTransientNetworkError(error)) {
          throw this.unreachable(req, error);
        }
        this.#logger.debug(`${req.action}: retrying after ${networkCode(error)}`);
        await this.pause(attempt);
        continue;
      }
      const { res } = outcome;
      if (req.expect.includes(res.status)) return res;
      if (attempt >= attempts || !isTransientStatus(res.status)) {
        throw await this.statusError(req, res);
      }
      await res.body.dump().catch(() => undefined);
      this.#logger.debug(`${req.action}: retrying after status ${res.status}`);
      await this.pause(attempt, retryAfterMs(res.headers['retry-after']));
    }
  }

  /** One attempt in a request slot; the slot is free again before any backoff. */
  async #attempt(req: HttpRequest): Promise<{ res: HttpResponse } | { error: unknown }> {
    const limiter = typeof req.body === 'function' ? this.#uploadLimiter : this.#limiter;
    const release = await limiter.acquire();
    try {
      return { res: await this.#sendOnce(req) };
    } catch (error) {
      return { error };
    } finally {
      release();
    }
  }

  /**
   * Sends `req` and reads its body, at most `limitBytes` plus one (so callers can tell an
   * oversized body). A body cut off by a dropped connection is fetched again.
   */
  async sendAndRead(
    req: HttpRequest,
    limitBytes: number,
  ): Promise<{ res: HttpResponse; bytes: Uint8Array }> {
    for (let attempt = 1; ; attempt++) {
      const res = await this.send(req);
      try {
        return { res, bytes: await readBody(res.body, limitBytes + 1) };
      } catch (err) {
        if (attempt >= this.#retry.attempts || !isTransientNetworkError(err)) {
          throw this.unreachable(req, err);
        }
        this.#logger.debug(`${req.action}: reading the answer again after ${networkCode(err)}`);
        await this.pause(attempt);
      }
    }
  }

  async #sendOnce(req: HttpRequest): Promise<HttpResponse> {
    const host = registryApiHost(req.repo.registry);
    const endpoint = await this.transport.endpoint(host);
    let url = new URL(req.target, `${endpoint.baseUrl}/`);
    const actions = req.push ? 'pull,push' : 'pull';
    const scopes = [`repository:${req.repo.repository}:${actions}`, ...(req.extraScopes ?? [])];
    const headers: Record<string, string> = { ...req.headers };
    // An upload location may point elsewhere (storage behind the registry): no credentials there.
    const foreign = url.origin !== new URL(endpoint.baseUrl).origin;
    const dispatcher = foreign ? await this.transport.dispatcherForUrl(url) : endpoint.dispatcher;
    const authorization = foreign
      ? undefined
      : await this.auth.authorization(req.repo.registry, host, scopes);
    if (authorization) headers.authorization = authorization;

    let res = await this.#dispatch(req, url, headers, dispatcher);
    if (res.statusCode === 401 && !foreign) {
      const fresh = await this.auth.challenged(
        req.repo.registry,
        host,
        headerValue(res.headers['www-authenticate']),
        scopes,
        authorization,
      );
      if (fresh !== undefined && fresh !== authorization) {
        await res.body.dump();
        headers.authorization = fresh;
        res = await this.#dispatch(req, url, headers, endpoint.dispatcher);
      }
    }

    const follow = req.method === 'GET' || req.method === 'HEAD';
    for (let n = 0; follow && redirectStatuses.has(res.statusCode) && n < maxRedirects; n++) {
      const location = headerValue(res.headers.location);
      if (location === undefined) break;
      await res.body.dump();
      const next = new URL(location, url);
      if (next.origin !== url.origin) delete headers.authorization;
      this.#logger.debug(`${req.action}: redirected to "${redactUrl(next.toString())}"`);
      url = next;
      const dispatcher =
        next.host === host ? endpoint.dispatcher : await this.transport.dispatcherForUrl(next);
      res = await this.#dispatch(req, url, headers, dispatcher);
    }
    this.#reportWarnings(res.headers.warning);
    return { status: res.statusCode, headers: res.headers, body: res.body, url };
  }

  /** Passes registry `Warning` headers (`299 - "text"`) on to the logger, each text once. */
  #reportWarnings(header: string | string[] | undefined): void {
    for (const value of Array.isArray(header) ? header : header ? [header] : []) {
      const text = /^\s*\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/.exec(value)?.[1] ?? value;
      if (this.#warned.has(text)) continue;
      this.#warned.add(text);
      this.#logger.warn(`registry warning: ${text}`);
    }
  }

  async #dispatch(
    req: HttpRequest,
    url: URL,
    headers: Record<string, string>,
    dispatcher: Dispatcher,
  ): Promise<Dispatcher.ResponseData> {
    this.#logger.debug(`${req.method} ${redactUrl(url.toString())}`);
    const body =
      typeof req.body === 'function' ? Readable.from(req.body(), { objectMode: false }) : req.body;
    return request(url, {
      method: req.method,
      headers,
      dispatcher,
      ...(body !== undefined && { body }),
      ...(this.#signal && { signal: this.#signal }),
    });
  }

  /** Turns an unexpected status into a {@link RegistryError}, reading a capped error body. */
  async statusError(req: HttpRequest, res: HttpResponse): Promise<RegistryError> {
    const body = req.method === 'HEAD' ? new Uint8Array() : await readCapped(res.body);
    const entries = parseErrorBody(body);
    const codes = entries.map((e) => e.code);
    const credential = await this.auth.credentials(req.repo.registry).catch(() => undefined);
    const reason = reasonFor(res.status, credential !== undefined);
    const detail = codes.length > 0 ? ` (${codes.join(', ')})` : '';
    // The registry found that uploaded content does not match the digest it was sent under.
    const code = codes.includes('DIGEST_INVALID') ? 'DIGEST_MISMATCH' : codeForStatus(res.status);
    return new RegistryError(code, `${req.action}: ${reason}${detail}`, {
      method: req.method,
      url: res.url.toString(),
      status: res.status,
      registryCodes: codes,
      hint: this.#hintFor(req, res.status),
    });
  }

  #hintFor(req: HttpRequest, status: number): string | undefined {
    const { registry, repository } = req.repo;
    if (status === 401) {
      return `Run "docker login ${registry}", or check the credentials for "${registry}".`;
    }
    if (status === 403) {
      const access = req.push ? 'push to' : 'pull from';
      return `Check that the credentials for "${registry}" may ${access} "${repository}".`;
    }
    if (status === 404) {
      return req.notFoundHint ?? `Check that "${registry}/${repository}" exists.`;
    }
    if (isTransientStatus(status)) return 'The registry is failing or overloaded; try again later.';
    return undefined;
  }

  /** Wraps a network failure as `REGISTRY_UNREACHABLE`, naming the host. */
  unreachable(req: HttpRequest, err: unknown): CopaError {
    if ((err as Error | undefined)?.name === 'AbortError' || this.#signal?.aborted) {
      return new CopaError('CANCELLED', `${req.action}: cancelled`, { cause: err });
    }
    const host = registryApiHost(req.repo.registry);
    const code = networkCode(err);
    if (code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
      return new CopaError(
        'DIGEST_MISMATCH',
        `${req.action}: the content is not of its stated size`,
        {
          hint: 'The blob source gave a different number of bytes than its descriptor says.',
          cause: err,
        },
      );
    }
    let reason = `cannot connect to "${host}"${code ? ` (${code})` : ''}`;
    let hint = `Check the registry host "${host}" and that it is reachable from here.`;
    const certificateCode = certificateErrorCode(err);
    if (certificateCode !== undefined) {
      reason = `cannot verify the TLS certificate of "${host}" (${certificateCode})`;
      hint =
        `Add the registry's CA to /etc/docker/certs.d/${host}/ca.crt (or COPA_DOCKER_CERTS_D) ` +
        `or to SSL_CERT_FILE, or mark "${host}" insecure.`;
    } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      reason = `unknown host "${host}" (${code})`;
      hint = `Check the registry host name "${host}".`;
    } else if (code === 'ECONNREFUSED') {
      hint = `Check that a registry is listening on "${host}".`;
    }
    return new RegistryError('REGISTRY_UNREACHABLE', `${req.action}: ${reason}`, {
      method: req.method,
      url: `https://${host}${req.target.startsWith('/') ? req.target : ''}`,
      hint,
      cause: err,
    });
  }
}

/** The first value of a header that may repeat. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function reasonFor(status: number, hasCredentials: boolean): string {
  if (status === 401) return hasCredentials ? 'credentials rejected' : 'authentication required';
  if (status === 403) return 'access denied';
  if (status === 404) return 'not found';
  if (status === 429) return 'too many requests';
  return `status ${status}`;
}

/** Reads a body up to `limit` bytes and drops the rest; read errors are thrown. */
async function readBody(
  body: AsyncIterable<Uint8Array> & { destroy?: () => void },
  limit: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    chunks.push(chunk.subarray(0, limit - total));
    total += Math.min(chunk.byteLength, limit - total);
    if (total >= limit) break;
  }
  body.destroy?.();
  return Buffer.concat(chunks);
}

/** Reads at most `limit` bytes of an error body and drops the rest; read errors are ignored. */
export async function readCapped(
  body: AsyncIterable<Uint8Array> & { destroy?: () => void },
  limit = MAX_ERROR_BODY_BYTES,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk.subarray(0, limit - total));
      total += Math.min(chunk.byteLength, limit - total);
      if (total >= limit) break;
    }
  } catch {
    // A broken error body still leaves the status to report.
  }
  body.destroy?.();
  return Buffer.concat(chunks);
}
