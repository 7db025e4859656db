import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fault to inject on matching requests: `drop` closes the connection before answering,
 * `status` answers with that status (and `Retry-After` when set) without forwarding, `truncate`
 * forwards but sends half the body with a matching `Content-Length`, `cut` sends the headers and
 * half the body, then drops the connection, `redirect` answers 307 to `location`.
 */
export interface Fault {
  kind: 'drop' | 'status' | 'truncate' | 'cut' | 'redirect';
  method?: string;
  /** Matched against the request path and query. */
  path: RegExp;
  status?: number;
  retryAfterSeconds?: number;
  location?: string;
  /** How many matching requests get the fault. Default 1. */
  times?: number;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  /** Whether the request carried an `Authorization` header. */
  authorized: boolean;
  /** The status sent back, or `undefined` for a dropped connection. */
  status: number | undefined;
  fault?: Fault['kind'];
}

export interface FaultProxy {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** Every request seen, in order. */
  requests: ProxiedRequest[];
  inject(fault: Fault): void;
  /** Requests seen matching `method` and `path`. */
  count(method: string, path: RegExp): number;
  stop(): Promise<void>;
}

/**
 * Starts a loopback HTTP proxy in front of `target` (`127.0.0.1:PORT` of a plain-HTTP
 * registry). The `Host` header is kept, so the registry's upload locations point at the proxy.
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const faults: (Fault & { left: number })[] = [];
  const requests: ProxiedRequest[] = [];
  const [targetHost = '127.0.0.1', targetPort = '80'] = target.split(':');

  const takeFault = (req: IncomingMessage): Fault | undefined => {
    const f = faults.find(
      (x) => x.left > 0 && x.path.test(req.url ?? '') && (!x.method || x.method === req.method),
    );
    if (f) f.left--;
    return f;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const record: ProxiedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      authorized: req.headers.authorization !== undefined,
      status: undefined,
    };
    requests.push(record);
    const fault = takeFault(req);
    if (fault) record.fault = fault.kind;
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'redirect') {
      record.status = 307;
      req.resume();
      res.writeHead(307, { location: fault.location ?? '/' }).end();
      return;
    }
    if (fault?.kind === 'status') {
      record.status = fault.status ?? 500;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        connection: 'close',
      };
      if (fault.retryAfterSeconds !== undefined)
        headers['retry-after'] = String(fault.retryAfterSeconds);
      req.resume();
      res
        .writeHead(record.status, headers)
        .end('{"errors":[{"code":"UNAVAILABLE","message":"injected"}]}');
      return;
    }
    const upstream = httpRequest(
      {
        host: targetHost,
        port: Number(targetPort),
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => forward(up, res, record, fault),
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    inject: (fault) => faults.push({ ...fault, left: fault.times ?? 1 }),
    count: (method, path) =>
      requests.filter((r) => r.method === method && path.test(r.path)).length,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function forward(
  up: IncomingMessage,
  res: ServerResponse,
  record: ProxiedRequest,
  fault: Fault | undefined,
): void {
  record.status = up.statusCode;
  if (fault?.kind !== 'truncate' && fault?.kind !== 'cut') {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
    return;
  }
  const chunks: Buffer[] = [];
  up.on('data', (c: Buffer) => chunks.push(c));
  up.on('end', () => {
    const body = Buffer.concat(chunks);
    const half = body.subarray(0, Math.floor(body.length / 2));
    if (fault.kind === 'truncate') {
      res.writeHead(up.statusCode ?? 502, { ...up.headers, 'content-length': String(half.length) });
      res.end(half);
      return;
    }
    res.writeHead(up.statusCode ?? 502, up.headers);
    res.write(half, () => res.socket?.destroy());
  });
}
