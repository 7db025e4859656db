import { formatRepository } from '../reference/index.js';
import type { HttpRequest, HttpResponse, RegistryHttp, RepositoryName } from './registry-http.js';
import { isTransientNetworkError } from './retry.js';
import { verifyStream } from './verify-stream.js';

/**
 * Opens a blob as a stream verified against `digest`. The request is made before this
 * resolves, so a missing blob fails here; a connection dropped while reading is resumed with a
 * `Range` request.
 */
export async function pullBlob(
  http: RegistryHttp,
  repo: RepositoryName,
  digest: string,
  options: { size?: number } = {},
): Promise<AsyncIterable<Uint8Array>> {
  const what = `blob "${digest}" of "${formatRepository(repo)}"`;
  const req: HttpRequest = {
    method: 'GET',
    repo,
    target: `/v2/${repo.repository}/blobs/${digest}`,
    expect: [200],
    action: `pulling ${what}`,
    notFoundHint: `Check that "${formatRepository(repo)}" still has the blob "${digest}".`,
  };
  const first = await http.send(req);
  return verifyStream(resumable(http, req, first), digest, {
    what,
    ...(options.size !== undefined && { size: options.size }),
  });
}

async function* resumable(
  http: RegistryHttp,
  req: HttpRequest,
  first: HttpResponse,
): AsyncGenerator<Uint8Array, void, undefined> {
  let res = first;
  let received = 0;
  let skip = 0;
  for (let failures = 0; ;) {
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        const fresh = skip > 0 ? chunk.subarray(Math.min(skip, chunk.byteLength)) : chunk;
        skip -= chunk.byteLength - fresh.byteLength;
        if (fresh.byteLength === 0) continue;
        received += fresh.byteLength;
        yield fresh;
      }
      return;
    } catch (err) {
      failures++;
      if (!isTransientNetworkError(err) || failures >= http.retryPolicy.attempts) {
        throw http.unreachable(req, err);
      }
      http.logger.debug(`${req.action}: resuming at byte ${received}`);
      await http.pause(failures);
      res = await http.send({
        ...req,
        headers: { range: `bytes=${received}-` },
        expect: [200, 206],
      });
      // A registry that ignores the range sends everything again; skip what was passed on.
      skip = res.status === 200 ? received : 0;
    }
  }
}
