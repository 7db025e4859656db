import type { Dispatcher } from 'undici';

import { CopaError } from '../errors.js';
import { MediaType, type Descriptor } from '../image/types.js';
import type { Logger } from '../log.js';
import { formatReference, formatRepository, type Reference } from '../reference/index.js';
import { Authenticator } from './authenticator.js';
import { pullBlob } from './blob-download.js';
import { uploadBlob, type PushBlobOptions } from './blob-upload.js';
import { dockerConfigKeychain, type Keychain } from './keychain.js';
import { RegistryHttp, headerValue, type RepositoryName } from './registry-http.js';
import { resolveRetryPolicy, type RetryPolicy } from './retry.js';
import { Transport } from './transport.js';
import { DIGEST_MISMATCH_HINT, digestOf } from './verify-stream.js';

/**
 * The Accept list for manifests: OCI index, OCI manifest, Docker list, Docker schema 2.
 * TODO: Docker schema 1 manifests are not accepted; images only stored that way cannot be read.
 */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaType.OciIndex,
  MediaType.OciManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
];

/** The most bytes of a manifest read (distribution's own limit is 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface RegistryClientOptions {
  logger?: Logger;
  /** Cancels every request of this client. */
  signal?: AbortSignal;
  /** Used for every request instead of the built-in agents (proxies, CAs are then its setup). */
  dispatcher?: Dispatcher;
  /** Where credentials come from. Default: the Docker config file and its helpers. */
  credentials?: Keychain;
  /** Hosts reached over plain HTTP or unverified TLS, besides `COPA_INSECURE_REGISTRIES`. */
  insecureRegistries?: readonly string[];
  /** Root of per-host CA directories. Default `$COPA_DOCKER_CERTS_D`, else /etc/docker/certs.d. */
  certsDir?: string;
  /** Requests in flight at once (and as many streamed uploads besides). Default 8. */
  concurrency?: number;
  retry?: RetryPolicy;
  /** Environment for SSL_CERT_FILE, proxies, COPA_INSECURE_REGISTRIES. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** A manifest as stored: the exact bytes, their media type and digest. */
export interface ManifestResult {
  readonly bytes: Uint8Array;
  readonly mediaType: string;
  readonly digest: string;
}

/**
 * A client of the OCI distribution API. It deals in bytes and descriptors; `src/image/remote`
 * builds images on it. Requests are authorized from the keychain, retried when transient and
 * bounded by `concurrency`. Call `close()` to release connections.
 *
 * @example
 * const client = new RegistryClient({ logger });
 * const { bytes, mediaType } = await client.getManifest(parseReference('nginx:1.25'));
 */
export class RegistryClient {
  readonly #http: RegistryHttp;
  readonly concurrency: number;

  constructor(options: RegistryClientOptions = {}) {
    this.concurrency = options.concurrency ?? 8;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new RangeError(`concurrency must be an integer >= 1, got ${options.concurrency}`);
    }
    const transport = new Transport({
      ...(options.dispatcher && { dispatcher: options.dispatcher }),
      ...(options.insecureRegistries && { insecureRegistries: options.insecureRegistries }),
      ...(options.certsDir !== undefined && { certsDir: options.certsDir }),
      ...(options.env && { env: options.env }),
      ...(options.logger && { logger: options.logger }),
    });
    const keychain =
      options.credentials ??
      dockerConfigKeychain({
        ...(options.env && { env: options.env }),
        ...(options.logger && { logger: options.logger }),
      });
    const auth = new Authenticator({
      keychain,
      transport,
      ...(options.logger && { logger: options.logger }),
    });
    this.#http = new RegistryHttp({
      transport,
      auth,
      concurrency: this.concurrency,
      retry: resolveRetryPolicy(options.retry),
      ...(options.logger && { logger: options.logger }),
      ...(options.signal && { signal: options.signal }),
    });
  }

  /**
   * Fetches a manifest by tag or digest, with its exact bytes. When pulled by digest the bytes
   * are verified against it; by tag, against the registry's `Docker-Content-Digest`.
   *
   * @throws {RegistryError} `REGISTRY_NOT_FOUND` for a missing tag or repository, and the other
   * registry codes; {@link CopaError} `DIGEST_MISMATCH` or `MANIFEST_INVALID`.
   */
  async getManifest(
    ref: Reference,
    options: { accept?: readonly string[] } = {},
  ): Promise<ManifestResult> {
    const action = `pulling manifest "${formatReference(ref)}"`;
    const request = {
      method: 'GET',
      repo: ref,
      target: manifestPath(ref),
      headers: { accept: (options.accept ?? MANIFEST_ACCEPT).join(', ') },
      expect: [200],
      action,
      notFoundHint: notFoundHint(ref),
    } as const;
    const { res, bytes } = await this.#http.sendAndRead(request, MAX_MANIFEST_BYTES);
    if (bytes.byteLength > MAX_MANIFEST_BYTES) {
      throw new CopaError('MANIFEST_INVALID', `${action}: larger than ${MAX_MANIFEST_BYTES} bytes`);
    }
    const expected = ref.digest ?? headerValue(res.headers['docker-content-digest']);
    const algorithm = expected?.split(':')[0] === 'sha512' ? 'sha512' : 'sha256';
    const digest = digestOf(bytes, algorithm);
    if (expected !== undefined && expected.startsWith(`${algorithm}:`) && expected !== digest) {
      throw new CopaError(
        'DIGEST_MISMATCH',
        `${action}: content has digest "${digest}", not "${expected}"`,
        {
          hint: DIGEST_MISMATCH_HINT,
        },
      );
    }
    return {
      bytes,
      digest,
      mediaType: manifestMediaType(res.headers['content-type'], bytes, action),
    };
  }

  /**
   * Asks for a manifest's descriptor without its body; `undefined` when it does not exist.
   * `size` is 0 when the registry does not tell it.
   */
  async headManifest(
    ref: Reference,
    options: { accept?: readonly string[] } = {},
  ): Promise<Descriptor | undefined> {
    const res = await this.#http.send({
      method: 'HEAD',
      repo: ref,
      target: manifestPath(ref),
      headers: { accept: (options.accept ?? MANIFEST_ACCEPT).join(', ') },
      expect: [200, 404],
      action: `checking manifest "${formatReference(ref)}"`,
    });
    await res.body.dump();
    if (res.status === 404) return undefined;
    const digest = headerValue(res.headers['docker-content-digest']) ?? ref.digest;
    if (digest === undefined) {
      const m = await this.getManifest(ref, options);
      return { mediaType: m.mediaType, digest: m.digest, size: m.bytes.byteLength };
    }
    return {
      mediaType: (headerValue(res.headers['content-type']) ?? '').split(';')[0] ?? '',
      digest,
      size: Number(headerValue(res.headers['content-length']) ?? 0),
    };
  }

  /**
   * Opens a blob as a stream verified against `digest` while it is read; the stream fails with
   * `DIGEST_MISMATCH` at its end when the bytes differ. A connection dropped mid-way is resumed
   * with a range request. Redirects to blob storage are followed. The caller must consume or
   * abandon the stream.
   */
  async getBlob(
    repo: RepositoryName,
    digest: string,
    options: { size?: number } = {},
  ): Promise<AsyncIterable<Uint8Array>> {
    return pullBlob(this.#http, repo, digest, options);
  }

  /** The blob's digest and size, or `undefined` when the repository does not have it. */
  async headBlob(
    repo: RepositoryName,
    digest: string,
  ): Promise<{ digest: string; size: number } | undefined> {
    const res = await this.#http.send({
      method: 'HEAD',
      repo,
      target: `/v2/${repo.repository}/blobs/${digest}`,
      expect: [200, 404],
      action: `checking blob "${digest}" in "${formatRepository(repo)}"`,
    });
    await res.body.dump();
    if (res.status === 404) return undefined;
    return { digest, size: Number(headerValue(res.headers['content-length']) ?? 0) };
  }

  /** Reports whether the repository has the blob. */
  async blobExists(repo: RepositoryName, digest: string): Promise<boolean> {
    return (await this.headBlob(repo, digest)) !== undefined;
  }

  /**
   * Asks the registry to link a blob from another repository of the same registry, without
   * uploading it. Resolves to `false` when the registry declined (the blob is then not there).
   */
  async mountBlob(repo: RepositoryName, digest: string, fromRepository: string): Promise<boolean> {
    const mountQuery = new URLSearchParams({ mount: digest, from: fromRepository }).toString();
    const res = await this.#http.send({
      method: 'POST',
      repo,
      target: `/v2/${repo.repository}/blobs/uploads/?${mountQuery}`,
      push: true,
      extraScopes: [`repository:${fromRepository}:pull`],
      expect: [201, 202],
      action: `mounting blob "${digest}" from "${fromRepository}" into "${formatRepository(repo)}"`,
    });
    await res.body.dump();
    if (res.status === 201) return true;
    const location = headerValue(res.headers.location);
    if (location !== undefined) await this.#cancelUpload(repo, new URL(location, res.url));
    return false;
  }

  async #cancelUpload(repo: RepositoryName, location: URL): Promise<void> {
    try {
      const res = await this.#http.send({
        method: 'DELETE',
        repo,
        target: location.toString(),
        push: true,
        expect: [204, 404],
        action: 'cancelling an upload',
        retry: false,
      });
      await res.body.dump();
    } catch {
      // An abandoned upload session expires on its own.
    }
  }

  /**
   * Uploads a blob. `open` is called for each attempt and must return a fresh stream of
   * exactly `size` bytes. Without `chunkSizeBytes` (or when the blob is smaller) the blob goes
   * in one request; otherwise in PATCH chunks, each retried on its own.
   */
  async pushBlob(
    repo: RepositoryName,
    digest: string,
    size: number,
    open: () => AsyncIterable<Uint8Array>,
    options: PushBlobOptions = {},
  ): Promise<void> {
    await uploadBlob(this.#http, { repo, digest, size, open, ...options });
  }

  /**
   * Stores manifest bytes unchanged under a tag or digest and returns their digest.
   * @throws {RegistryError} when the registry refuses it (a missing blob gives its codes).
   */
  async putManifest(ref: Reference, bytes: Uint8Array, mediaType: string): Promise<string> {
    const digest = digestOf(bytes);
    const res = await this.#http.send({
      method: 'PUT',
      repo: ref,
      target: `/v2/${ref.repository}/manifests/${ref.tag ?? ref.digest ?? digest}`,
      headers: { 'content-type': mediaType },
      body: bytes,
      push: true,
      expect: [200, 201],
      action: `pushing manifest "${formatReference(ref)}"`,
    });
    await res.body.dump();
    return digest;
  }

  /** Lists the repository's tags, following pagination. */
  async listTags(repo: RepositoryName): Promise<string[]> {
    const tags: string[] = [];
    let target: string | undefined = `/v2/${repo.repository}/tags/list?n=1000`;
    while (target !== undefined) {
      const { res, bytes } = await this.#http.sendAndRead(
        {
          method: 'GET',
          repo,
          target,
          expect: [200],
          action: `listing tags of "${formatRepository(repo)}"`,
        },
        MAX_MANIFEST_BYTES,
      );
      tags.push(...parseTagList(bytes, `listing tags of "${formatRepository(repo)}"`));
      const link = /<([^>]+)>;\s*rel="?next"?/.exec(headerValue(res.headers.link) ?? '');
      target = link?.[1] !== undefined ? new URL(link[1], res.url).toString() : undefined;
    }
    return tags;
  }

  /** Closes the connections this client opened. */
  async close(): Promise<void> {
    await this.#http.transport.close();
  }
}

function manifestPath(ref: Reference): string {
  return `/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`;
}

function notFoundHint(ref: Reference): string {
  const what = ref.digest !== undefined ? `digest "${ref.digest}"` : `tag "${ref.tag ?? 'latest'}"`;
  return `Check that the repository "${formatRepository(ref)}" exists and has the ${what}.`;
}

function manifestMediaType(
  contentType: string | string[] | undefined,
  bytes: Uint8Array,
  action: string,
): string {
  let parsed: { mediaType?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as typeof parsed;
  } catch {
    throw new CopaError('MANIFEST_INVALID', `${action}: not valid JSON`);
  }
  if (typeof parsed.mediaType === 'string' && parsed.mediaType !== '') return parsed.mediaType;
  const header = (headerValue(contentType) ?? '').split(';')[0]?.trim() ?? '';
  if (header !== '' && header !== 'application/json') return header;
  throw new CopaError('MANIFEST_INVALID', `${action}: no media type`, {
    hint: 'The manifest has no "mediaType" field and the registry sent no usable Content-Type.',
  });
}

function parseTagList(bytes: Uint8Array, action: string): string[] {
  try {
    const body = JSON.parse(Buffer.from(bytes).toString('utf8')) as { tags?: unknown };
    if (body.tags === null || body.tags === undefined) return [];
    if (Array.isArray(body.tags) && body.tags.every((t) => typeof t === 'string')) return body.tags;
  } catch {
    // Reported below.
  }
  throw new CopaError('REGISTRY_ERROR', `${action}: the answer is not a tag list`);
}
