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
export { aptConfigPaths, readAptConfig } from './read-apt-config.js';
export { createIndexCache, openRepositories } from './open-repositories.js';
export {
  MIRROR_SETTINGS,
  classifyArchive,
  defaultConfigFile,
  loadUserMirrors,
  readHostArchives,
  type ArchiveKind,
  type HostArchives,
} from './mirrors.js';
export {
  parseDeb822Sources,
  parseSourcesList,
  type SignedByRef,
  type SourceEntry,
} from './sources.js';
