/**
 * Cancelling a run: it must settle promptly with `CANCELLED`, even while a registry request
 * hangs or a part ignores the signal, and remove its working folder.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { isCopaError } from '../errors.js';
import { patchImage, runPatch, type PatchImageOptions } from './index.js';

const manifestType = 'application/vnd.oci.image.manifest.v1+json';

describe('patchImage() cancellation', () => {
  let server: Server;
  let host: string;
  let work: string;
  const sockets = new Set<Socket>();

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'copa-cancel-'));
    // A registry that answers the API check, then never finishes a manifest.
    server = createServer((req, res) => {
      if (req.url === '/v2/') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else if (req.url?.includes('/partial/')) {
        res.writeHead(200, { 'content-type': manifestType, 'content-length': '5000' }).write('{');
      }
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    await rm(work, { recursive: true, force: true });
  });

  const options = (image: string): PatchImageOptions => ({
    image,
    push: true,
    ignoreErrors: false,
    scanner: 'trivy',
    compression: 'gzip',
    workingFolder: work,
    cacheDir: join(work, 'cache'),
  });

  /** Aborts after 300 ms and checks the run settles with CANCELLED within `limitMs` of it. */
  async function assertCancelledWithin(
    start: (signal: AbortSignal) => Promise<unknown>,
    limitMs: number,
  ): Promise<void> {
    const controller = new AbortController();
    const run = start(controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const abortedAt = Date.now();
    controller.abort();
    await assert.rejects(run, (err) => isCopaError(err, 'CANCELLED'));
    const elapsedMs = Date.now() - abortedAt;
    assert.ok(elapsedMs < limitMs, `settled ${elapsedMs} ms after the abort`);
    const left = (await readdir(work)).filter((name) => name.startsWith('copa-'));
    assert.deepEqual(left, []);
  }

  it('settles at once when aborted while the registry does not answer', async () => {
    await assertCancelledWithin(
      (signal) => patchImage(options(`${host}/silent/app:1`), { signal }),
      500,
    );
  });

  it('settles at once when aborted in the middle of a manifest body', async () => {
    await assertCancelledWithin(
      (signal) => patchImage(options(`${host}/partial/app:1`), { signal }),
      500,
    );
  });

  it('settles within its grace when a part of the run ignores the signal', async () => {
    const never = new Promise<never>(() => {});
    await assertCancelledWithin(
      (signal) =>
        runPatch(
          options('oci:/nowhere:1'),
          { signal },
          {
            openSource: () => never,
            readReports: () => never,
            patchers: new Map(),
            publish: () => never,
          },
        ),
      1800,
    );
  });

  it('removes the working folder again when a part writes on after the abort', async () => {
    const controller = new AbortController();
    let finished: Promise<void> | undefined;
    const run = runPatch(
      options('oci:/nowhere:1'),
      { signal: controller.signal },
      {
        // Ignores the signal and writes into the working folder well after the grace.
        openSource: (_image, ctx) => {
          finished = new Promise((resolve) => setTimeout(resolve, 1500)).then(async () => {
            await mkdir(join(ctx.workDir, 'late'), { recursive: true });
            await writeFile(join(ctx.workDir, 'late', 'file'), 'x');
          });
          return finished.then(() => Promise.reject(new Error('stopped late')));
        },
        readReports: () => new Promise<never>(() => {}),
        patchers: new Map(),
        publish: () => new Promise<never>(() => {}),
      },
    );
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(run, (err) => isCopaError(err, 'CANCELLED'));
    await finished;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const left = (await readdir(work)).filter((name) => name.startsWith('copa-'));
    assert.deepEqual(left, []);
  });
});
