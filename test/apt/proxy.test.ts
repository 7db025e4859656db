import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';

import { openRepositories, type AptConfig } from '../../src/pkgmgr/dpkg/apt/index.js';
import { startAptRepository } from '../support/apt-repo.js';
import { imageConfig, scratch } from './image-config.js';

/** A CONNECT proxy on loopback that records the targets it tunnels to. */
async function startProxy(): Promise<{ url: string; targets: string[]; stop(): Promise<void> }> {
  const targets: string[] = [];
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    targets.push(req.url ?? '');
    const [host = '', port = '80'] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('requests go through the proxy of the environment, then of the image', async (t) => {
  const repo = await startAptRepository({ packages: [{ name: 'hello', version: '1.0-1' }] });
  t.after(() => repo.stop());
  const proxy = await startProxy();
  t.after(() => proxy.stop());
  const target = new URL(repo.url).host;
  const base = await imageConfig(repo);

  const fromEnv = await scratch();
  t.after(() => fromEnv.cleanup());
  const a = await openRepositories(base, {
    arch: 'amd64',
    env: { http_proxy: proxy.url },
    ...fromEnv,
  });
  await a.download(a.candidate('hello')!);
  await a.close();
  assert.ok(proxy.targets.includes(target), 'the environment proxy was used');

  proxy.targets.length = 0;
  const fromImage = await scratch();
  t.after(() => fromImage.cleanup());
  const config: AptConfig = { ...base, proxy: { http: proxy.url } };
  const b = await openRepositories(config, { arch: 'amd64', env: {}, ...fromImage });
  await b.close();
  assert.ok(proxy.targets.includes(target), 'the image proxy was used');

  proxy.targets.length = 0;
  const bypass = await scratch();
  t.after(() => bypass.cleanup());
  const c = await openRepositories(config, {
    arch: 'amd64',
    env: { http_proxy: proxy.url, no_proxy: '127.0.0.1' },
    ...bypass,
  });
  await c.close();
  assert.deepEqual(proxy.targets, [], 'no_proxy bypasses the proxy');
});
