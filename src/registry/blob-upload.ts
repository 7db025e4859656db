import { CopaError } from '../errors.js';
import { formatRepository } from '../reference/index.js';
import { RegistryError } from './registry-error.js';
import {
  headerValue,
  type HttpResponse,
  type RegistryHttp,
  type RepositoryName,
} from './registry-http.js';
import { isTransientNetworkError, isTransientStatus } from './retry.js';

export interface PushBlobOptions {
  /** Upload in PATCH chunks of this many bytes (held in memory one at a time). */
  chunkSizeBytes?: number;
}

interface UploadJob extends PushBlobOptions {
  repo: RepositoryName;
  digest: string;
  size: number;
  open: () => AsyncIterable<Uint8Array>;
}

/**
 * Uploads a blob, monolithic (POST, then PUT with the body) or chunked (POST, PATCH with
 * `Content-Range` per chunk, then PUT `?digest=`), as distribution-spec "Pushing blobs" lays out.
 * A failed monolithic upload starts over with a fresh stream; a failed chunk is sent again after
 * asking the registry how much it has.
 */
export async function uploadBlob(http: RegistryHttp, job: UploadJob): Promise<void> {
  const action = `pushing blob "${job.digest}" to "${formatRepository(job.repo)}"`;
  const chunkSize = job.chunkSizeBytes;
  if (chunkSize !== undefined && (!Number.isInteger(chunkSize) || chunkSize < 1)) {
    throw new RangeError(`chunkSizeBytes must be a positive integer, got ${chunkSize}`);
  }
  if (chunkSize === undefined || job.size <= chunkSize) return monolithic(http, job, action);
  return chunked(http, job, chunkSize, action);
}

async function monolithic(http: RegistryHttp, job: UploadJob, action: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const location = await startUpload(http, job, action);
    try {
      const res = await http.send({
        method: 'PUT',
        repo: job.repo,
        target: withDigest(location, job.digest),
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(job.size),
        },
        body: job.open,
        push: true,
        expect: [201],
        action,
        retry: false,
      });
      await res.body.dump();
      return;
    } catch (err) {
      if (attempt >= http.retryPolicy.attempts || !isRetryable(err)) throw err;
      http.logger.debug(`${action}: starting the upload again`);
      await http.pause(attempt);
    }
  }
}

async function chunked(
  http: RegistryHttp,
  job: UploadJob,
  chunkSize: number,
  action: string,
): Promise<void> {
  let location = await startUpload(http, job, action);
  let offset = 0;
  for await (const chunk of rechunk(job.open(), chunkSize)) {
    location = await sendChunk(http, job, { location, chunk, offset, action });
    offset += chunk.byteLength;
  }
  if (offset !== job.size) {
    throw new CopaError(
      'DIGEST_MISMATCH',
      `${action}: the content has ${offset} bytes, not ${job.size}`,
    );
  }
  const res = await http.send({
    method: 'PUT',
    repo: job.repo,
    target: withDigest(location, job.digest),
    headers: { 'content-length': '0' },
    push: true,
    expect: [201],
    action,
  });
  await res.body.dump();
}

interface ChunkStep {
  location: URL;
  chunk: Uint8Array;
  offset: number;
  action: string;
}

async function sendChunk(http: RegistryHttp, job: UploadJob, step: ChunkStep): Promise<URL> {
  const { chunk, offset, action } = step;
  let location = step.location;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await http.send({
        method: 'PATCH',
        repo: job.repo,
        target: location.toString(),
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${offset}-${offset + chunk.byteLength - 1}`,
          'content-length': String(chunk.byteLength),
        },
        body: chunk,
        push: true,
        expect: [202],
        action,
        retry: false,
      });
      await res.body.dump();
      return nextLocation(res, action);
    } catch (err) {
      if (attempt >= http.retryPolicy.attempts || !isRetryable(err)) throw err;
      await http.pause(attempt);
      const status = await uploadStatus(http, job, location, action);
      if (status.offset === offset + chunk.byteLength) return status.location;
      if (status.offset !== offset) {
        throw new CopaError(
          'REGISTRY_ERROR',
          `${action}: the registry holds ${status.offset} bytes, expected ${offset}`,
          {
            hint: 'Try the push again.',
            cause: err,
          },
        );
      }
      http.logger.debug(`${action}: sending the chunk at ${offset} again`);
      location = status.location;
    }
  }
}

/** Asks how many bytes an upload session holds (its `Range` header is `0-<last byte>`). */
async function uploadStatus(
  http: RegistryHttp,
  job: UploadJob,
  location: URL,
  action: string,
): Promise<{ offset: number; location: URL }> {
  const res = await http.send({
    method: 'GET',
    repo: job.repo,
    target: location.toString(),
    push: true,
    expect: [204],
    action,
  });
  await res.body.dump();
  const range = /^(?:bytes=)?0-(\d+)$/.exec(headerValue(res.headers.range) ?? '');
  const last = range?.[1] === undefined ? -1 : Number(range[1]);
  return { offset: last <= 0 ? 0 : last + 1, location: nextLocation(res, action, location) };
}

async function startUpload(http: RegistryHttp, job: UploadJob, action: string): Promise<URL> {
  const res = await http.send({
    method: 'POST',
    repo: job.repo,
    target: `/v2/${job.repo.repository}/blobs/uploads/`,
    push: true,
    expect: [202],
    action,
  });
  await res.body.dump();
  return nextLocation(res, action);
}

function nextLocation(res: HttpResponse, action: string, fallback?: URL): URL {
  const location = headerValue(res.headers.location);
  if (location !== undefined) return new URL(location, res.url);
  if (fallback) return fallback;
  throw new CopaError('REGISTRY_ERROR', `${action}: the registry sent no upload location`);
}

function withDigest(location: URL, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

function isRetryable(err: unknown): boolean {
  if (!(err instanceof RegistryError)) return false;
  if (err.status !== undefined) return isTransientStatus(err.status);
  return err.code === 'REGISTRY_UNREACHABLE' && isTransientNetworkError(err.cause);
}

/** Regroups a stream into chunks of exactly `size` bytes, the last one possibly shorter. */
export async function* rechunk(
  source: AsyncIterable<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array, void, undefined> {
  let buffer = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const piece of source) {
    let at = 0;
    while (at < piece.byteLength) {
      const n = Math.min(size - filled, piece.byteLength - at);
      buffer.set(piece.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === size) {
        yield buffer;
        buffer = Buffer.allocUnsafe(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}
