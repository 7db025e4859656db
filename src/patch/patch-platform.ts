import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { CopaError, wrapError } from '../errors.js';
import {
  appendLayer,
  formatPlatform,
  MediaType,
  replaceTopLayers,
  type Image,
  type Platform,
} from '../image/index.js';
import {
  indexedLayersFileTree,
  layersFileTree,
  writeLayer,
  type Compression,
  type IndexedFileTree,
} from '../layer/index.js';
import type { Logger } from '../log.js';
import { compareDebianVersions } from '../pkgmgr/dpkg/version.js';
import type { RepositoryOverrides } from '../pkgmgr/dpkg/apt/index.js';
import type {
  FileTree,
  PackagePatch,
  PackagePatchOptions,
  RequestedUpdate,
  UpdateRequest,
} from '../pkgmgr/types.js';
import type { UpdateManifest } from '../report/types.js';
import { findPreviousPatch, mergeRequested, patchHistoryEntry } from './patch-history.js';
import { patchedAnnotation } from './assemble-index.js';
import { RunProgress, shortDigest } from './run-progress.js';
import type { PlatformSummary } from './types.js';
import {
  installedVersionsOf,
  isStatusFile,
  readInstalledVersions,
  unsatisfiedUpdates,
} from './verify-patch.js';

/** What a package manager's entry point receives: the shared options and the source settings. */
export interface PackagePatcherOptions extends PackagePatchOptions {
  /** The user's changes to the image's package sources; managers without them ignore it. */
  readonly aptOverrides?: RepositoryOverrides;
}

/** Plans and unpacks the updates of one platform: a package manager's entry point. */
export type PackagePatcher = (options: PackagePatcherOptions) => Promise<PackagePatch>;

export interface PatchPlatformOptions {
  readonly image: Image;
  readonly platform: Platform;
  readonly request: UpdateRequest;
  readonly report: UpdateManifest | undefined;
  /** Package managers by OS family (`debian`, `ubuntu`, …). */
  readonly patchers: ReadonlyMap<string, PackagePatcher>;
  readonly compression: Compression;
  readonly created: string;
  readonly cacheDir: string;
  readonly workDir: string;
  readonly ignoreErrors: boolean;
  /** Changes to the image's package sources (mirrors, extra suites, keyrings). */
  readonly repositories?: RepositoryOverrides | undefined;
  /** Where reading the layers and the long phases are reported; nowhere when absent. */
  readonly progress?: RunProgress | undefined;
  readonly logger: Logger;
  readonly signal: AbortSignal | undefined;
}

/** The outcome of one platform: its summary and, when patched, the new image. */
export interface PlatformOutcome {
  readonly summary: PlatformSummary;
  readonly image: Image | undefined;
}

/**
 * Patches one platform's image: reads its file tree (below a previous copa patch layer, which
 * the new layer replaces), runs the package manager, writes the one new layer, puts it on top
 * and checks in the result that each requested package is at least at its fixed version.
 *
 * Throws a `CopaError` when the platform fails: `PATCH_FAILED` for packages the manager could
 * not update, `PATCH_VERIFICATION_FAILED` when the result lacks a fixed version; with
 * `ignoreErrors` those packages are reported as failed and the platform goes on.
 */
export async function patchPlatform(options: PatchPlatformOptions): Promise<PlatformOutcome> {
  const { image, logger } = options;
  const [config, layers, sourceDigest] = await Promise.all([
    image.configFile(),
    image.layers(),
    image.digest(),
  ]);
  const previous = findPreviousPatch(config);
  const progress = options.progress ?? new RunProgress();
  const name = formatPlatform(options.platform);
  const baseLayers = (previous === undefined ? layers : layers.slice(0, previous.layerIndex)).map(
    (layer) => progress.layer(layer, (d) => `${name}: reading layer "${shortDigest(d)}"`),
  );
  // Each base layer is decompressed once; every later read of the tree, and of the result for
  // verification, comes from its index.
  const tree = indexedLayersFileTree(baseLayers, {
    dir: join(options.workDir, 'base-index'),
    logger,
    signal: options.signal,
  });
  const patcher = await choosePatcher(options, tree);
  const base = {
    platform: options.platform,
    sourceDigest,
    fixedVulnerabilities: [],
    scriptsNotRun: [],
  };

  if (previous !== undefined && options.request.kind === 'packages') {
    const current = await readInstalledVersions(
      tree.withUpperLayers(layers.slice(previous.layerIndex)),
    );
    if (unsatisfiedUpdates(current, options.request.packages).length === 0) {
      logger.info('up to date: the previous patch layer already has every fixed version');
      return upToDate(base);
    }
  }
  if (previous !== undefined) {
    logger.info(`replacing the previous copa patch layer (${previous.packages.length} packages)`);
  }
  const request = mergedRequest(options.request, previous?.packages ?? []);
  // TODO: package managers take no progress reporter, so .deb downloads show as one phase per
  // platform, without bytes, instead of a bar per package.
  const patch = await progress.phase(`${name}: resolving and downloading packages`, () =>
    patcher({
      tree,
      request,
      cacheDir: options.cacheDir,
      workDir: options.workDir,
      ...(hasOverrides(options.repositories) ? { aptOverrides: options.repositories } : {}),
      logger,
      signal: options.signal,
    }),
  );
  checkFailures(options, patch);
  if (patch.updated.length === 0 || sameAsPrevious(patch, previous?.packages)) {
    logger.info(
      patch.failed.length > 0 && patch.updated.length === 0
        ? 'nothing to write: no package could be updated'
        : 'up to date: no package needs an update',
    );
    return upToDate(base, patch);
  }
  const patched = await buildPatchedImage(options, patch, previous !== undefined);
  const verified = await verifyResult(options, { patched, tree }, request, patch);
  const failed = [...patch.failed, ...verified];
  return {
    image: patched,
    summary: {
      ...base,
      status: 'patched',
      digest: await patched.digest(),
      updated: patch.updated,
      failed,
      fixedVulnerabilities: fixedVulnerabilities(options.report, failed),
      scriptsNotRun: patch.scriptsNotRun,
    },
  };
}

function hasOverrides(o: RepositoryOverrides | undefined): o is RepositoryOverrides {
  return o !== undefined && Object.values(o).some((v) => v !== undefined);
}

type SummaryBase = Pick<PlatformSummary, 'platform' | 'sourceDigest'>;

function upToDate(base: SummaryBase, patch?: PackagePatch): PlatformOutcome {
  return {
    image: undefined,
    summary: {
      ...base,
      status: 'up to date',
      digest: base.sourceDigest,
      updated: [],
      failed: patch?.failed ?? [],
      fixedVulnerabilities: [],
      scriptsNotRun: [],
    },
  };
}

async function choosePatcher(
  options: PatchPlatformOptions,
  tree: FileTree,
): Promise<PackagePatcher> {
  const family = options.report?.os.family ?? (await readOsFamily(tree));
  const patcher = family === undefined ? undefined : options.patchers.get(family);
  if (patcher === undefined) {
    throw new CopaError(
      'OS_UNSUPPORTED',
      `patching ${formatPlatform(options.platform)}: no package manager for OS "${family ?? 'unknown'}"`,
      { hint: `copa patches ${[...options.patchers.keys()].join(', ') || 'no'} images.` },
    );
  }
  return patcher;
}

/** Reads `ID` of `/etc/os-release` (or `/usr/lib/os-release`) from the tree. */
async function readOsFamily(tree: FileTree): Promise<string | undefined> {
  const files = await tree.readFiles((p) => p === 'etc/os-release' || p === 'usr/lib/os-release');
  for (const path of ['etc/os-release', 'usr/lib/os-release']) {
    const content = files.get(path)?.content;
    if (content === undefined) continue;
    const id = /^ID=("?)([^"\n]*)\1$/m.exec(new TextDecoder().decode(content))?.[2];
    if (id !== undefined) return id.toLowerCase();
  }
  return undefined;
}

function mergedRequest(
  request: UpdateRequest,
  previous: readonly RequestedUpdate[],
): UpdateRequest {
  if (request.kind === 'all' || previous.length === 0) return request;
  return {
    kind: 'packages',
    packages: mergeRequested(previous, request.packages, compareDebianVersions),
  };
}

function sameAsPrevious(patch: PackagePatch, previous: readonly RequestedUpdate[] | undefined) {
  if (previous === undefined || previous.length !== patch.updated.length) return false;
  const before = new Set(previous.map((p) => `${p.name}=${p.fixedVersion}`));
  return patch.updated.every((u) => before.has(`${u.name}=${u.toVersion}`));
}

/**
 * The package manager's logger, without its own warnings about packages it does not update:
 * those are in `failed`, which {@link checkFailures} reports once, with the version asked.
 */
function failureReason(f: PackagePatch['failed'][number]): string {
  return `"${f.name}" needs >= ${f.fixedVersion}: ${f.reason}`;
}

function checkFailures(options: PatchPlatformOptions, patch: PackagePatch): void {
  if (patch.failed.length === 0) return;
  const reasons = patch.failed.map(failureReason);
  if (options.ignoreErrors) {
    for (const r of reasons) options.logger.warn(r);
    return;
  }
  throw new CopaError(
    'PATCH_FAILED',
    `patching ${formatPlatform(options.platform)}: ${reasons.join('; ')}`,
    { hint: 'Check the report against the repositories, or pass --ignore-errors to go on.' },
  );
}

async function buildPatchedImage(
  options: PatchPlatformOptions,
  patch: PackagePatch,
  replaceLastLayer: boolean,
): Promise<Image> {
  const dir = join(options.workDir, 'layers');
  await mkdir(dir, { recursive: true });
  const docker = (await options.image.mediaType()) === MediaType.DockerManifest;
  let compression = options.compression;
  if (docker && compression === 'zstd') {
    options.logger.warn('writing the layer with gzip: Docker schema 2 images have no zstd layers');
    compression = 'gzip';
  }
  const progress = options.progress ?? new RunProgress();
  const name = formatPlatform(options.platform);
  const write = () =>
    writeLayer(patch.entries, {
      compression,
      dir,
      mtime: Math.floor(Date.parse(options.created) / 1000),
      mediaTypeFamily: docker ? 'docker' : 'oci',
      signal: options.signal,
    });
  const layer = await progress
    .phase(`${name}: writing the patch layer`, write, (l) => l.size())
    .catch((err: unknown) => {
      throw wrapError(`writing the patch layer of ${name}`, err);
    });
  options.logger.info(`wrote layer "${await layer.digest()}" (${await layer.size()} bytes)`);
  const history = patchHistoryEntry(patch.updated, options.created);
  const append = {
    created: options.created,
    annotations: {
      'org.opencontainers.image.created': options.created,
      [patchedAnnotation]: options.created,
    },
  };
  return replaceLastLayer
    ? replaceTopLayers(options.image, 1, [{ layer, history }], append)
    : appendLayer(options.image, layer, { ...append, history });
}

/** The patched image, and the file tree of the base layers below its new layer. */
interface PatchResult {
  readonly patched: Image;
  readonly tree: IndexedFileTree;
}

async function verifyResult(
  options: PatchPlatformOptions,
  result: PatchResult,
  request: UpdateRequest,
  patch: PackagePatch,
): Promise<PackagePatch['failed']> {
  if (request.kind === 'all') return [];
  const known = new Set(patch.failed.map((f) => f.name));
  const wanted = request.packages.filter((p) => !known.has(p.name));
  const unsatisfied = unsatisfiedUpdates(await resultVersions(result, options.signal), wanted);
  if (unsatisfied.length === 0) return [];
  for (const u of unsatisfied) options.logger.warn(u.reason);
  if (options.ignoreErrors) return unsatisfied;
  throw new CopaError(
    'PATCH_VERIFICATION_FAILED',
    `checking ${formatPlatform(options.platform)}: ${unsatisfied.map((u) => u.reason).join('; ')}`,
    { hint: 'The repositories may lack the fixed versions; pass --ignore-errors to go on.' },
  );
}

/**
 * Reads the installed versions of the result. A new layer that carries the whole status file
 * decides alone; otherwise (distroless `status.d` entries) the new layer is merged over the
 * base layers' index, which are not decompressed again.
 */
async function resultVersions(
  result: PatchResult,
  signal: AbortSignal | undefined,
): Promise<ReadonlyMap<string, string>> {
  const layer = (await result.patched.layers()).slice(-1);
  const top = await layersFileTree(layer, { signal }).readFiles(isStatusFile);
  if (top.has('var/lib/dpkg/status')) return installedVersionsOf(top);
  return readInstalledVersions(result.tree.withUpperLayers(layer));
}

function fixedVulnerabilities(
  report: UpdateManifest | undefined,
  failed: PackagePatch['failed'],
): PlatformSummary['fixedVulnerabilities'] {
  if (report === undefined) return [];
  // A package already at its fixed version is fixed in the result as much as an updated one.
  const bad = new Set(failed.map((f) => f.name));
  return report.updates
    .filter((u) => !bad.has(u.name))
    .map((u) => ({ name: u.name, ids: u.vulnerabilityIds }));
}
