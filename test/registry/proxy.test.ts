import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';

import { pushImage } from '../../src/image/remote.js';
import { parseReference } from '../../src/reference/index.js';
import { RegistryClient, anonymousKeychain } from '../../src/registry/index.js';
import { randomImage } from '../support/random-image.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

describe('registry requests through an HTTP proxy from the environment', () => {
  let registry: TestRegistry;
  let proxy: Server;
  let proxyUrl: string;
  const tunnels: string[] = [];

  before(async () => {
    registry = await startRegistry();
    proxy = createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req, client, head) => {
      tunnels.push(req.url ?? '');
      const [host = '', port = '0'] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const client = new RegistryClient({ credentials: anonymousKeychain, env: {} });
    await pushImage(
      client,
      parseReference(`${registry.host}/proxied/app:v1`),
      await randomImage(41),
    );
    await client.close();
  });
  after(async () => {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
    await registry.stop();
  });

  test('HTTP_PROXY tunnels requests through the proxy', async () => {
    tunnels.length = 0;
    const client = new RegistryClient({
      credentials: anonymousKeychain,
      env: { HTTP_PROXY: proxyUrl },
    });
    await client.getManifest(parseReference(`${registry.host}/proxied/app:v1`));
    await client.close();
    assert.ok(tunnels.includes(registry.host), `tunnels: ${tunnels.join(', ')}`);
  });

  test('NO_PROXY leaves a host out of the proxy', async () => {
    tunnels.length = 0;
    const env = { HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' };
    const client = new RegistryClient({ credentials: anonymousKeychain, env });
    await client.getManifest(parseReference(`${registry.host}/proxied/app:v1`));
    await client.close();
    assert.deepEqual(tunnels, []);
  });
});
