import { execFile } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TokenRequest {
  method: string;
  scopes: string[];
  grantType: string | undefined;
  basicUser: string | undefined;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** The certificate the registry trusts for tokens. */
  rootCertFile: string;
  requests: TokenRequest[];
  stop(): Promise<void>;
}

/**
 * A minimal token service for distribution's token auth: it signs RS256 JWTs carrying its
 * certificate in `x5c`. Basic `user:password` or the refresh token `refresh` get every action
 * asked for; anyone else gets a token without access.
 */
export async function startTokenServer(
  dir: string,
  user: { username: string; password: string },
): Promise<TokenServer> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  await run('openssl', [
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2'],
    ...['-keyout', keyFile, '-out', certFile, '-subj', '/CN=copa-token'],
  ]);
  const key = createPrivateKey(await readFile(keyFile));
  const der = (await readFile(certFile, 'utf8')).replace(/-----[^-]+-----|\s/g, '');
  const service = 'copa-registry';
  const issuer = 'copa-token-issuer';
  const requests: TokenRequest[] = [];

  const server = createServer((req, res) => {
    void readForm(req).then((form) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const params = req.method === 'POST' ? form : url.searchParams;
      const basic = basicUser(req, user);
      const grantType = params.get('grant_type') ?? undefined;
      const scopes = params.getAll('scope');
      requests.push({ method: req.method ?? '', scopes, grantType, basicUser: basic });
      const allowed = basic === user.username || params.get('refresh_token') === 'refresh';
      const token = jwt(key, der, { issuer, service, scopes: allowed ? scopes : [] });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          req.method === 'POST' ? { access_token: token } : { token, expires_in: 300 },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertFile: certFile,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

function basicUser(
  req: IncomingMessage,
  user: { username: string; password: string },
): string | undefined {
  const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
  if (!m?.[1]) return undefined;
  const [name, ...rest] = Buffer.from(m[1], 'base64').toString().split(':');
  return name === user.username && rest.join(':') === user.password ? name : 'wrong';
}

function jwt(
  key: ReturnType<typeof createPrivateKey>,
  certDer: string,
  o: { issuer: string; service: string; scopes: string[] },
): string {
  const b64url = (x: Buffer | string): string => Buffer.from(x).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const access = o.scopes.map((s) => {
    const [type, ...rest] = s.split(':');
    const actions = rest.pop() ?? '';
    return { type, name: rest.join(':'), actions: actions.split(',') };
  });
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [certDer] }));
  const claims = b64url(
    JSON.stringify({
      iss: o.issuer,
      sub: 'copa',
      aud: o.service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: `${now}-${Math.random()}`,
      access,
    }),
  );
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${claims}`), key);
  return `${header}.${claims}.${b64url(signature)}`;
}
