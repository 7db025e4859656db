/**
 * apt without apt: the image's sources, signed Release files, `Packages` indexes, candidate
 * versions and verified `.deb` downloads, cached on disk by hash.
 *
 * @example
 * const config = await readAptConfig(tree, { osRelease });
 * const repos = await openRepositories(config, { arch: 'arm64', cacheDir });
 * const openssl = repos.candidate('openssl');
 * const debPath = openssl && (await repos.download(openssl));
 */
export type {
  AptConfig,
  AptRepositories,
  AptSource,
  IndexCacheLike,
  KeySource,
  MirrorSettings,
  MultiArch,
  OpenRepositoriesOptions,
  OsRelease,
  PackageRecord,
  RepositoryOrigin,
  RepositoryOverrides,
} from './types.js';
export type { Relation, RelationGroups, RelationOperator } from './relations.js';
export {
  formatRelations,
  parseRelations,
  parseSourceField,
  satisfiesVersion,
  tryParseRelations,
} from './relations.js';
