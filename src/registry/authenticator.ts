import { request } from 'undici';

import { silentLogger, type Logger } from '../log.js';
import { parseChallenges, type Challenge } from './challenge.js';
import type { Credential, Keychain } from './keychain.js';
import { RegistryError, codeForStatus } from './registry-error.js';
import type { Transport } from './transport.js';

/** Seconds a token lives when the token service does not say (distribution's token spec). */
const defaultTokenSeconds = 60;

interface CachedToken {
  readonly header: string;
  readonly expiresAt: number;
}

/**
 * Authorizes registry requests: Basic, or Bearer tokens fetched from the realm of the
 * `WWW-Authenticate` challenge, cached per host and scope until shortly before they expire.
 * Credentials are asked of the keychain once per registry and never logged.
 */
export class Authenticator {
  readonly #keychain: Keychain;
  readonly #transport: Transport;
  readonly #logger: Logger;
  readonly #credentials = new Map<string, Promise<Credential | undefined>>();
  readonly #challenges = new Map<string, Challenge>();
  readonly #tokens = new Map<string, Promise<CachedToken>>();

  constructor(options: { keychain: Keychain; transport: Transport; logger?: Logger }) {
    this.#keychain = options.keychain;
    this.#transport = options.transport;
    this.#logger = options.logger ?? silentLogger;
  }

  /** The credentials for `registry`, if the keychain has some. */
  credentials(registry: string): Promise<Credential | undefined> {
    let c = this.#credentials.get(registry);
    if (!c) {
      c = this.#keychain.resolve(registry);
      this.#credentials.set(registry, c);
    }
    return c;
  }

  /** The `Authorization` value for a request, once the host's challenge is known. */
  async authorization(
    registry: string,
    host: string,
    scopes: readonly string[],
  ): Promise<string | undefined> {
    const challenge = this.#challenges.get(host);
    if (!challenge) return undefined;
    return this.#authorize({ registry, host, challenge, scopes, sent: undefined });
  }

  /**
   * Takes in a 401 answer's `WWW-Authenticate` header and returns an `Authorization` value to
   * try again with (a token other than the one `sent`), or `undefined` when there is none.
   */
  async challenged(
    registry: string,
    host: string,
    header: string | undefined,
    scopes: readonly string[],
    sent: string | undefined,
  ): Promise<string | undefined> {
    const challenges = parseChallenges(header ?? '');
    const challenge =
      challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (!challenge) return undefined;
    this.#challenges.set(host, challenge);
    const wanted = challenge.params.scope ? [...scopes, challenge.params.scope] : scopes;
    return this.#authorize({ registry, host, challenge, scopes: [...new Set(wanted)], sent });
  }

  async #authorize(o: {
    registry: string;
    host: string;
    challenge: Challenge;
    scopes: readonly string[];
    sent: string | undefined;
  }): Promise<string | undefined> {
    const credential = await this.credentials(o.registry);
    if (o.challenge.scheme === 'basic') {
      if (credential?.username === undefined || credential.password === undefined) return undefined;
      const basic = Buffer.from(`${credential.username}:${credential.password}`).toString('base64');
      return `Basic ${basic}`;
    }
    if (credential?.registryToken) return `Bearer ${credential.registryToken}`;

    // A token cached (or being fetched) for these scopes, or for push as well, is reused unless
    // it is the one the registry just refused; concurrent requests so share one fetch.
    const key = tokenKey(o.host, o.scopes);
    for (const k of [key, tokenKey(o.host, withPush(o.scopes))]) {
      const token = await this.#tokens.get(k)?.catch(() => undefined);
      if (token && token.expiresAt > Date.now() && token.header !== o.sent) return token.header;
    }
    const pending = this.#fetchToken(o.registry, o.challenge, o.scopes, credential);
    this.#tokens.set(key, pending);
    pending.catch(() => this.#tokens.delete(key));
    return (await pending).header;
  }

  async #fetchToken(
    registry: string,
    challenge: Challenge,
    scopes: readonly string[],
    credential: Credential | undefined,
  ): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm) {
      throw new RegistryError(
        'REGISTRY_UNAUTHORIZED',
        `authenticating to "${registry}": bearer challenge without realm`,
        {
          method: 'GET',
          url: '',
        },
      );
    }
    const url = new URL(realm);
    const form = new URLSearchParams();
    if (challenge.params.service) form.set('service', challenge.params.service);
    for (const scope of scopes) form.append('scope', scope);
    form.set('client_id', 'copa');
    const dispatcher = await this.#transport.dispatcherForUrl(url);

    let res;
    if (credential?.identityToken) {
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', credential.identityToken);
      form.set('access_type', 'offline');
      res = await request(url, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
    } else {
      for (const [k, v] of form) url.searchParams.append(k, v);
      const headers: Record<string, string> = {};
      if (credential?.username !== undefined && credential.password !== undefined) {
        const basic = Buffer.from(`${credential.username}:${credential.password}`);
        headers.authorization = `Basic ${basic.toString('base64')}`;
      }
      res = await request(url, { method: 'GET', dispatcher, headers });
    }

    if (res.statusCode !== 200) {
      await res.body.dump();
      const code = res.statusCode === 401 ? 'REGISTRY_UNAUTHORIZED' : codeForStatus(res.statusCode);
      throw new RegistryError(
        code === 'REGISTRY_NOT_FOUND' ? 'REGISTRY_ERROR' : code,
        `authenticating to "${registry}": token service answered ${res.statusCode}`,
        {
          method: credential?.identityToken ? 'POST' : 'GET',
          url: url.toString(),
          status: res.statusCode,
          hint: `Run "docker login ${registry}", or check the credentials for "${registry}".`,
        },
      );
    }
    const body = (await res.body.json()) as {
      token?: string;
      access_token?: string;
      expires_in?: number;
    };
    const token = body.token ?? body.access_token;
    if (!token) {
      throw new RegistryError(
        'REGISTRY_ERROR',
        `authenticating to "${registry}": no token in the answer`,
        {
          method: 'GET',
          url: url.toString(),
          status: 200,
        },
      );
    }
    const seconds = typeof body.expires_in === 'number' ? body.expires_in : defaultTokenSeconds;
    this.#logger.debug(`got a token for "${registry}" (${scopes.join(' ')})`);
    return { header: `Bearer ${token}`, expiresAt: Date.now() + Math.max(0, seconds - 10) * 1000 };
  }
}

function tokenKey(host: string, scopes: readonly string[]): string {
  return `${host} ${[...scopes].sort().join(' ')}`;
}

/** The scopes with the first repository's pull access widened to pull and push. */
function withPush(scopes: readonly string[]): string[] {
  return scopes.map((s, i) => (i === 0 ? s.replace(/:pull$/, ':pull,push') : s));
}
