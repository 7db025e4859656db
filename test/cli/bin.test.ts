import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const bin = fileURLToPath(new URL('../../bin/copa.js', import.meta.url));
const { version } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function copa(...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('bin/copa.js', () => {
  it('prints the version and exits 0', async () => {
    const result = await copa('--version');
    assert.deepEqual(result, { code: 0, stdout: `copa version ${version}\n`, stderr: '' });
  });

  it('exits 2 with one error line and one hint line for an unknown flag', async () => {
    const result = await copa('patch', '--no-such-flag');
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.deepEqual(result.stderr.trimEnd().split('\n'), [
      'error: unknown option "--no-such-flag"',
      'hint: Run "copa help patch" to see the commands, flags and accepted values.',
    ]);
  });

  it('exits 2 for a bad value before doing any work', async () => {
    const result = await copa('patch', '-i', 'nginx:1.25', '--timeout', 'soon');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error: reading --timeout: "soon"/);
  });
});

/** A TCP server on loopback that accepts connections and never answers: a registry that hangs. */
async function silentServer(): Promise<{ server: Server; port: number; connected: Promise<void> }> {
  const sockets: Socket[] = [];
  let onConnect: () => void = () => {};
  const connected = new Promise<void>((resolve) => (onConnect = resolve));
  const server = createServer((socket) => {
    sockets.push(socket);
    onConnect();
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, connected };
}

describe('bin/copa.js stopping a run', () => {
  it('exits 1 with "cancelled" on SIGINT', async (t) => {
    const { server, port, connected } = await silentServer();
    t.after(() => server.close());
    const child = spawn(process.execPath, [bin, 'patch', '-i', `127.0.0.1:${port}/app:1`], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await connected;
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1, stderr);
    assert.match(stderr, /^error: patching "127\.0\.0\.1:\d+\/app:1": cancelled$/m);
  });

  it('exits 1 with "timed out" when --timeout passes', async (t) => {
    const { server, port } = await silentServer();
    t.after(() => server.close());
    const result = await copa('patch', '-i', `127.0.0.1:${port}/app:1`, '--timeout', '300ms');
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /timed out after 300ms/);
    assert.match(result.stderr, /^hint: Pass a longer --timeout/m);
  });
});
