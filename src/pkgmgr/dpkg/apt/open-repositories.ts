/**
 * Opening the repositories of an image: plan the sources, verify each suite's Release file
 * and read its indexes, all through the on-disk cache.
 */
import type { Key } from 'openpgp';

import { isCopaError } from '../../../errors.js';
import { silentLogger } from '../../../log.js';
import { HttpClient, redact } from './http-client.js';
import { loadKeys } from './keyring.js';
import { classifyArchive, loadUserMirrors, readHostArchives } from './mirrors.js';
import { openSource, distUrl, type OpenedSource } from './open-source.js';
import { PackageSet } from './package-set.js';
import { planSources, type PlannedSource } from './plan-sources.js';
import type {
  AptConfig,
  AptRepositories,
  IndexCacheLike,
  KeySource,
  OpenRepositoriesOptions,
  PackageRecord,
} from './types.js';

const DEFAULT_RELEASE_MAX_AGE_MS = 10 * 60 * 1000;

/** Creates a store of parsed indexes to share between the platforms of one run. */
export function createIndexCache(): IndexCacheLike {
  return new Map<string, Promise<readonly PackageRecord[]>>();
}

/**
 * Opens the image's repositories for one architecture. An image without sources gets its
 * distribution's default suites from the configured or host mirror. Every Release file must be
 * signed by a trusted key and every index must match its hash.
 *
 * Throws `MIRROR_UNCONFIGURED` (no mirror for default sources), `REPOSITORY_UNVERIFIED` (no
 * good signature, expired Release), `REPOSITORY_HASH_MISMATCH`, `REPOSITORY_UNAVAILABLE` (a
 * distribution archive cannot be fetched; other sources that cannot be fetched are skipped with
 * a warning), `REPOSITORY_CONFIG_INVALID` and `OS_UNSUPPORTED`. Call `close()` when done.
 */
export async function openRepositories(
  config: AptConfig,
  options: OpenRepositoriesOptions,
): Promise<AptRepositories> {
  if (options.arch === '') throw new RangeError('opening apt repositories: "arch" is empty');
  const logger = options.logger ?? silentLogger;
  const env = options.env ?? process.env;
  const hostRoot = options.hostRoot ?? '/';
  const user = options.mirrors ?? (await loadUserMirrors({ env, configFile: options.configFile }));
  const host = await readHostArchives(hostRoot);
  const overrides = options.overrides ?? {};
  const planned = await planSources(config, {
    arch: options.arch,
    user,
    host,
    hostRoot,
    overrides,
    logger,
  });
  const http = new HttpClient({ dispatcher: options.dispatcher, proxy: config.proxy, env, logger });
  try {
    const memo = new Map<KeySource, Promise<readonly Key[]>>();
    const ctx = {
      http,
      cacheDir: options.cacheDir,
      architectures: [options.arch, ...(options.foreignArchitectures ?? [])],
      releaseMaxAgeMs: options.releaseMaxAgeMs ?? DEFAULT_RELEASE_MAX_AGE_MS,
      checkValidUntil: options.checkValidUntil ?? config.checkValidUntil ?? true,
      indexCache: options.indexCache ?? createIndexCache(),
      logger,
      signal: options.signal,
    };
    const opened = await Promise.all(
      planned.map(async (source) => {
        if (!/^https?:\/\//i.test(source.uri)) {
          logger.warn(
            `skipping source "${redact(source.uri)}" of "${source.from}": ` +
              'only http and https are supported',
          );
          return undefined;
        }
        return skipUnreachable(
          source,
          openSource(source, await loadKeys(source.keys, memo), ctx),
          logger,
        );
      }),
    );
    const sources = opened.filter((o): o is OpenedSource => o !== undefined);
    const set = new PackageSet({
      arch: options.arch,
      origins: sources.flatMap((s) => s.origins),
      records: sources.flatMap((s) => s.records),
      http,
      cacheDir: options.cacheDir,
      signal: options.signal,
    });
    logger.info(`read apt indexes of ${sources.length} suites for "${options.arch}"`);
    return set;
  } catch (err) {
    await http.close();
    throw err;
  }
}

/** A third-party source that cannot be fetched is skipped, as apt does; the archive's are not. */
async function skipUnreachable(
  source: PlannedSource,
  opening: Promise<OpenedSource>,
  logger: OpenRepositoriesOptions['logger'] & object,
): Promise<OpenedSource | undefined> {
  try {
    return await opening;
  } catch (err) {
    if (!isCopaError(err, 'REPOSITORY_UNAVAILABLE') || classifyArchive(source.uri) !== undefined)
      throw err;
    logger.warn(`skipping source "${redact(distUrl(source))}" of "${source.from}": ${err.message}`);
    return undefined;
  }
}
