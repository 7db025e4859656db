import { readdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';

import { Agent, EnvHttpProxyAgent, request, type Dispatcher } from 'undici';

import { silentLogger, type Logger } from '../log.js';
import { networkCode } from './retry.js';

/** Docker's directory of per-registry CA files and client certificates. */
export const DEFAULT_DOCKER_CERTS_D = '/etc/docker/certs.d';

export interface TransportOptions {
  /** Used for every request instead of the built-in agents (tests, custom proxies). */
  dispatcher?: Dispatcher;
  /** Hosts (`host` or `host:port`) reached over plain HTTP or with unverified TLS. */
  insecureRegistries?: readonly string[];
  /** Root of per-host CA directories. Default `$COPA_DOCKER_CERTS_D`, else /etc/docker/certs.d. */
  certsDir?: string;
  /** Environment read for SSL_CERT_FILE, COPA_INSECURE_REGISTRIES and proxies. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

/** How a host is reached: its base URL and the dispatcher to use. */
export interface Endpoint {
  readonly baseUrl: string;
  readonly dispatcher: Dispatcher;
}

/** Errors Node reports when a TLS peer certificate cannot be verified. */
const certificateErrors = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Errors of a TLS handshake with a peer that does not speak TLS, or of no listener at all. */
const notTlsCodes = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'EPROTO',
  'ECONNRESET',
  'ECONNREFUSED',
]);

/** The code of a TLS certificate verification failure in `err` or its causes, if any. */
export function certificateErrorCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === 'string' && certificateErrors.has(e.code)) return e.code;
  }
  return undefined;
}

/** Reports whether `err` (or its cause) is a TLS certificate verification failure. */
export function isCertificateError(err: unknown): boolean {
  return certificateErrorCode(err) !== undefined;
}

/** Strips the port: `[::1]:5000` is `::1`, `localhost:5000` is `localhost`. */
export function hostnameOf(host: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(host);
  if (v6?.[1] !== undefined) return v6[1];
  return host.replace(/:\d+$/, '');
}

/** Reports whether `host` names the loopback interface (localhost, 127.0.0.0/8, ::1). */
export function isLoopbackHost(host: string): boolean {
  const name = hostnameOf(host).toLowerCase();
  if (name === 'localhost' || name === '::1') return true;
  return isIP(name) === 4 && name.startsWith('127.');
}

/**
 * Chooses scheme, CAs and proxy per registry host. HTTPS is verified against the system CAs,
 * `SSL_CERT_FILE` and `<certs.d>/<host>/*.crt`. Loopback and insecure hosts are probed: HTTPS when
 * they speak it, else plain HTTP; only hosts marked insecure accept an unverifiable certificate.
 */
export class Transport {
  readonly #options: TransportOptions;
  readonly #env: NodeJS.ProcessEnv;
  readonly #insecure: Set<string>;
  readonly #endpoints = new Map<string, Promise<Endpoint>>();
  readonly #agents = new Map<string, Promise<Dispatcher>>();

  constructor(options: TransportOptions = {}) {
    this.#options = options;
    this.#env = options.env ?? process.env;
    const fromEnv = (this.#env.COPA_INSECURE_REGISTRIES ?? '').split(',');
    const all = [...(options.insecureRegistries ?? []), ...fromEnv].map((h) => h.trim());
    this.#insecure = new Set(all.filter((h) => h !== '').map((h) => h.toLowerCase()));
  }

  /**
   * Reports whether the user marked `host` insecure (by `host:port` or by host name alone).
   * TODO: CIDR ranges, which Docker's insecure-registries accepts, are not matched; users must
   * list each host.
   */
  isInsecure(host: string): boolean {
    const h = host.toLowerCase();
    return this.#insecure.has(h) || this.#insecure.has(hostnameOf(h));
  }

  /** The endpoint of a registry API host, probed once and remembered. */
  endpoint(host: string): Promise<Endpoint> {
    let e = this.#endpoints.get(host);
    if (!e) {
      e = this.#resolve(host);
      this.#endpoints.set(host, e);
      e.catch(() => this.#endpoints.delete(host));
    }
    return e;
  }

  /** The dispatcher for a URL outside the registry API, such as blob storage after a redirect. */
  async dispatcherForUrl(url: URL): Promise<Dispatcher> {
    return this.#options.dispatcher ?? this.#agent(url.host, true);
  }

  async close(): Promise<void> {
    const agents = await Promise.allSettled(this.#agents.values());
    this.#agents.clear();
    await Promise.all(agents.map((a) => (a.status === 'fulfilled' ? a.value.close() : undefined)));
  }

  async #resolve(host: string): Promise<Endpoint> {
    const https = `https://${host}`;
    const plainAllowed = isLoopbackHost(host) || this.isInsecure(host);
    const verifying = this.#options.dispatcher ?? (await this.#agent(host, true));
    if (!plainAllowed) return { baseUrl: https, dispatcher: verifying };

    const probe = await this.#probe(`${https}/v2/`, verifying);
    if (probe === 'certificate' && this.isInsecure(host)) {
      const unverified = this.#options.dispatcher ?? (await this.#agent(host, false));
      return { baseUrl: https, dispatcher: unverified };
    }
    if (probe !== 'plain') return { baseUrl: https, dispatcher: verifying };
    (this.#options.logger ?? silentLogger).debug(`using plain HTTP for "${host}"`);
    return { baseUrl: `http://${host}`, dispatcher: verifying };
  }

  /**
   * Tells whether a host speaks TLS. Only an answer that is not TLS (or no listener) means plain
   * HTTP: a TLS server that refuses the handshake later, say for want of a client certificate,
   * is still reached over HTTPS so that its error is the one reported.
   */
  async #probe(url: string, dispatcher: Dispatcher): Promise<'tls' | 'certificate' | 'plain'> {
    try {
      const res = await request(url, { dispatcher, headersTimeout: 10_000 });
      await res.body.dump();
      return 'tls';
    } catch (err) {
      if (isCertificateError(err)) return 'certificate';
      const code = networkCode(err);
      return code !== undefined && notTlsCodes.has(code) ? 'plain' : 'tls';
    }
  }

  #agent(host: string, verify: boolean): Promise<Dispatcher> {
    const key = `${host} ${verify}`;
    let agent = this.#agents.get(key);
    if (!agent) {
      agent = this.#newAgent(host, verify);
      this.#agents.set(key, agent);
    }
    return agent;
  }

  async #newAgent(host: string, verify: boolean): Promise<Dispatcher> {
    const tls = { ...(await this.#tlsOptions(host)), rejectUnauthorized: verify };
    const proxied = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'].some(
      (k) => (this.#env[k] ?? '') !== '',
    );
    const agent = proxied
      ? new EnvHttpProxyAgent({
          connect: tls,
          requestTls: tls,
          httpProxy: this.#env.http_proxy ?? this.#env.HTTP_PROXY,
          httpsProxy: this.#env.https_proxy ?? this.#env.HTTPS_PROXY,
          noProxy: this.#env.no_proxy ?? this.#env.NO_PROXY,
        })
      : new Agent({ connect: tls });
    return agent;
  }

  async #tlsOptions(host: string): Promise<{ ca: string[]; cert?: string; key?: string }> {
    const ca = [...rootCertificates];
    const sslCertFile = this.#env.SSL_CERT_FILE;
    if (sslCertFile) ca.push(await readFile(sslCertFile, 'utf8').catch(() => ''));
    const root = this.#options.certsDir ?? this.#env.COPA_DOCKER_CERTS_D ?? DEFAULT_DOCKER_CERTS_D;
    const dir = join(root, host);
    const names = await readdir(dir).catch(() => [] as string[]);
    const read = (name: string): Promise<string> => readFile(join(dir, name), 'utf8');
    for (const name of names.filter((n) => n.endsWith('.crt')).sort()) ca.push(await read(name));
    const cert = names.find((n) => n.endsWith('.cert'));
    const key = cert && names.find((n) => n === cert.replace(/\.cert$/, '.key'));
    if (cert && key)
      return { ca: ca.filter((c) => c !== ''), cert: await read(cert), key: await read(key) };
    return { ca: ca.filter((c) => c !== '') };
  }
}
