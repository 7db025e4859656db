import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The distribution registry from Debian's docker-registry package. */
export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export interface StartRegistryOptions {
  /** Require htpasswd Basic authentication with this user. */
  auth?: { username: string; password: string };
  /** Serve HTTPS with a certificate from a CA made for this registry (see `caFile`). */
  tls?: boolean;
  /** Serve HTTPS and require a client certificate signed by the same CA (implies `tls`). */
  clientCertificates?: boolean;
  /** Accept bearer tokens from this issuer instead of Basic auth. */
  token?: { realm: string; service: string; issuer: string; rootCertFile: string };
}

export interface TestRegistry {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** PEM file of the CA that signed the server certificate, when `tls` is set. */
  caFile?: string;
  /** A client certificate and key the registry accepts, when `clientCertificates` is set. */
  clientCertFile?: string;
  clientKeyFile?: string;
  /** Directory holding the registry's data and configuration. */
  dir: string;
  stop(): Promise<void>;
}

/** Returns a port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts a real registry on 127.0.0.1 with its storage in a private temp dir and waits until it
 * answers `/v2/`. Call `stop()` when done.
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'copa-registry-'));
  const client = options.clientCertificates === true;
  const tls = options.tls === true || client;
  const caFile = tls ? await makeCertificates(dir, client) : undefined;
  const clientFiles = client
    ? { clientCertFile: join(dir, 'client.cert'), clientKeyFile: join(dir, 'client.key') }
    : {};
  const authYaml = await authConfig(dir, options);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = registryConfig({ dir, port, tls, client, authYaml });
    await writeFile(join(dir, 'config.yml'), config);
    const child = spawn(REGISTRY_BINARY, ['serve', join(dir, 'config.yml')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on(
      'data',
      (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)),
    );
    const host = `127.0.0.1:${port}`;
    const up = await waitUntilAnswering(child, host, caFile, client ? dir : undefined);
    if (up) {
      const stop = async (): Promise<void> => {
        await stopChild(child);
        await rm(dir, { recursive: true, force: true });
      };
      return { host, dir, stop, ...clientFiles, ...(caFile !== undefined && { caFile }) };
    }
    await stopChild(child);
    if (attempt >= 3) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`starting docker-registry: it did not answer on ${host}: ${stderr}`);
    }
  }
}

interface RegistryConfigParts {
  dir: string;
  port: number;
  tls: boolean;
  client: boolean;
  authYaml: string;
}

function registryConfig(o: RegistryConfigParts): string {
  const cert = join(o.dir, 'server.crt');
  const key = join(o.dir, 'server.key');
  const clientCas = o.client ? `    clientcas:\n      - ${join(o.dir, 'ca.crt')}\n` : '';
  const tls = o.tls ? `  tls:\n    certificate: ${cert}\n    key: ${key}\n${clientCas}` : '';
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(o.dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${o.port}`,
    `  secret: copa-test-${o.port}`,
    tls + o.authYaml,
  ].join('\n');
}

async function authConfig(dir: string, options: StartRegistryOptions): Promise<string> {
  if (options.token) {
    const t = options.token;
    return [
      'auth:',
      '  token:',
      `    realm: ${t.realm}`,
      `    service: ${t.service}`,
      `    issuer: ${t.issuer}`,
      `    rootcertbundle: ${t.rootCertFile}`,
      '',
    ].join('\n');
  }
  if (!options.auth) return '';
  const { stdout } = await run('htpasswd', ['-Bbn', options.auth.username, options.auth.password]);
  await writeFile(join(dir, 'htpasswd'), stdout);
  return `auth:\n  htpasswd:\n    realm: copa-test\n    path: ${join(dir, 'htpasswd')}\n`;
}

/**
 * Makes a CA and a server certificate for 127.0.0.1 and localhost, and with `client` a client
 * certificate (client.cert, client.key); returns the CA file.
 */
async function makeCertificates(dir: string, client: boolean): Promise<string> {
  const f = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): Promise<unknown> =>
    run('openssl', [...args, ...(args[0] === 'req' ? ['-subj', '/CN=copa-test'] : [])]);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2');
  await openssl('req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'));
  const ext = [
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    'basicConstraints=CA:FALSE',
    'keyUsage=digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
  ];
  await writeFile(f('server.ext'), ext.join('\n') + '\n');
  const signWithCa = (csr: string, out: string, extfile: string) =>
    openssl(
      ...['x509', '-req', '-in', csr, '-CA', f('ca.crt'), '-CAkey', f('ca.key')],
      ...['-CAcreateserial', '-out', out, '-days', '2', '-extfile', extfile],
    );
  await signWithCa(f('server.csr'), f('server.crt'), f('server.ext'));
  if (client) {
    await openssl('req', ...ec, '-keyout', f('client.key'), '-out', f('client.csr'));
    await writeFile(f('client.ext'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
    await signWithCa(f('client.csr'), f('client.cert'), f('client.ext'));
  }
  return f('ca.crt');
}

async function waitUntilAnswering(
  child: ChildProcess,
  host: string,
  caFile: string | undefined,
  clientDir: string | undefined,
): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    if (await answers(host, caFile, clientDir)) {
      // Another registry may hold the port; ours would then exit at once on the failed bind.
      await new Promise((r) => setTimeout(r, 100));
      return child.exitCode === null;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function answers(
  host: string,
  caFile: string | undefined,
  clientDir: string | undefined,
): Promise<boolean> {
  const ca = caFile === undefined ? undefined : await readFile(caFile);
  const cert = clientDir === undefined ? undefined : await readFile(join(clientDir, 'client.cert'));
  const key = clientDir === undefined ? undefined : await readFile(join(clientDir, 'client.key'));
  return new Promise((resolve) => {
    const url = `${ca ? 'https' : 'http'}://${host}/v2/`;
    const options = { ca, cert, key, timeout: 1000 };
    const req = (ca ? httpsRequest : httpRequest)(url, options, (res) => {
      res.resume();
      resolve(res.statusCode === 200 || res.statusCode === 401);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}
