import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

import { CopaError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { DOCKER_HUB_REGISTRY } from '../reference/index.js';

/**
 * Credentials for one registry. `username`/`password` go to Basic auth or to the token service;
 * an `identityToken` is an OAuth2 refresh token; a `registryToken` is sent as a bearer as is.
 */
export interface Credential {
  readonly username?: string;
  readonly password?: string;
  readonly identityToken?: string;
  readonly registryToken?: string;
}

/** Finds the credentials for a registry (`docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
export interface Keychain {
  /** Resolves to `undefined` for anonymous access. */
  resolve(registry: string): Promise<Credential | undefined>;
}

/** A keychain that never has credentials. */
export const anonymousKeychain: Keychain = Object.freeze({ resolve: async () => undefined });

/** A keychain holding fixed credentials per registry, such as ones given on a command line. */
export function staticKeychain(entries: Readonly<Record<string, Credential>>): Keychain {
  return { resolve: async (registry) => entries[registry] };
}

export interface DockerConfigKeychainOptions {
  /** The file to read. Default `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
  configFile?: string;
  /** Environment for locating the file and running credential helpers (their `PATH`). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

interface DockerConfig {
  auths?: Record<
    string,
    {
      auth?: string;
      username?: string;
      password?: string;
      identitytoken?: string;
      registrytoken?: string;
    }
  >;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** The server address Docker uses for Docker Hub in config files and credential helpers. */
const dockerHubServer = 'https://index.docker.io/v1/';
const dockerHubAliases = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * Reads credentials the way the Docker CLI stores them: `credHelpers` for the registry, else
 * the `credsStore`, else the `auths` entry (`auth` base64 `user:password`, `username` and
 * `password`, `identitytoken`). Helpers run as `docker-credential-<name> get`. The file is read
 * once, on first use; a missing file means anonymous access.
 *
 * @throws {CopaError} `CREDENTIALS_INVALID` when the file is not JSON or a helper fails.
 */
export function dockerConfigKeychain(options: DockerConfigKeychainOptions = {}): Keychain {
  const env = options.env ?? process.env;
  const logger = options.logger ?? silentLogger;
  const file =
    options.configFile ?? join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  let config: Promise<DockerConfig> | undefined;
  return {
    async resolve(registry) {
      config ??= readDockerConfig(file);
      const c = await config;
      const helper = lookup(c.credHelpers ?? {}, registry) ?? c.credsStore;
      if (helper !== undefined && helper !== '') {
        logger.debug(`using credential helper "${helper}" for "${registry}"`);
        return runCredentialHelper(helper, serverAddress(registry, c), env);
      }
      const entry = lookup(c.auths ?? {}, registry);
      return entry === undefined ? undefined : credentialFromAuth(entry, file, registry);
    },
  };
}

async function readDockerConfig(file: string): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CopaError('CREDENTIALS_INVALID', `reading "${file}": ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as DockerConfig) : {};
  } catch {
    throw new CopaError('CREDENTIALS_INVALID', `reading "${file}": not valid JSON`, {
      hint: 'Fix the file, or log in again with "docker login".',
    });
  }
}

/** Normalises a config key the way Docker does: scheme and path are dropped. */
function hostOfKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return dockerHubAliases.has(host) ? DOCKER_HUB_REGISTRY : host;
}

function lookup<T>(entries: Readonly<Record<string, T>>, registry: string): T | undefined {
  const want = hostOfKey(registry);
  if (registry in entries) return entries[registry];
  const key = Object.keys(entries).find((k) => hostOfKey(k) === want);
  return key === undefined ? undefined : entries[key];
}

function serverAddress(registry: string, config: DockerConfig): string {
  if (hostOfKey(registry) !== DOCKER_HUB_REGISTRY) return registry;
  const helpers = Object.keys(config.credHelpers ?? {});
  return helpers.find((k) => hostOfKey(k) === DOCKER_HUB_REGISTRY) ?? dockerHubServer;
}

function credentialFromAuth(
  entry: NonNullable<DockerConfig['auths']>[string],
  file: string,
  registry: string,
): Credential | undefined {
  if (entry.identitytoken) return { identityToken: entry.identitytoken, username: entry.username };
  if (entry.registrytoken) return { registryToken: entry.registrytoken };
  if (entry.username !== undefined && entry.password !== undefined) {
    return { username: entry.username, password: entry.password };
  }
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) {
      throw new CopaError(
        'CREDENTIALS_INVALID',
        `reading "${file}": bad "auth" for "${registry}"`,
        {
          hint: `Log in again with "docker login ${registry}".`,
        },
      );
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return undefined;
}

/**
 * Runs `docker-credential-<helper> get` with the server address on stdin, as the Docker
 * credential-helper protocol defines. "credentials not found" means anonymous access.
 */
export async function runCredentialHelper(
  helper: string,
  server: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credential | undefined> {
  const program = `docker-credential-${helper}`;
  const { stdout, error } = await new Promise<{ stdout: string; error?: { code?: unknown } }>(
    (resolve) => {
      const child = execFile(program, ['get'], { env, timeout: 30_000 }, (err, out) =>
        resolve({ stdout: String(out), ...(err && { error: err }) }),
      );
      child.stdin?.end(`${server}\n`);
    },
  );
  if (error) {
    if (/credentials not found/i.test(stdout)) return undefined;
    const reason = error.code === 'ENOENT' ? 'not found on PATH' : `exited with an error`;
    throw new CopaError('CREDENTIALS_INVALID', `running "${program}" for "${server}": ${reason}`, {
      hint: `Install "${program}", or remove it from the Docker config file.`,
    });
  }
  let reply: { Username?: unknown; Secret?: unknown };
  try {
    reply = JSON.parse(stdout) as typeof reply;
  } catch {
    throw new CopaError('CREDENTIALS_INVALID', `running "${program}": its output is not JSON`);
  }
  const username = typeof reply.Username === 'string' ? reply.Username : '';
  const secret = typeof reply.Secret === 'string' ? reply.Secret : '';
  if (secret === '') return undefined;
  return username === '<token>' ? { identityToken: secret } : { username, password: secret };
}
