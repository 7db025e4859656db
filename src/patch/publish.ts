import { resolve } from 'node:path';

import { CopaError } from '../errors.js';
import {
  dockerArchiveStream,
  formatPlatform,
  isImageIndex,
  isManifestMediaType,
  loadIntoDaemon,
  pushImage,
  pushIndex,
  writeLayout,
  type Image,
  type ImageIndex,
  type Platform,
} from '../image/index.js';
import {
  formatReference,
  formatRepository,
  parseReference,
  withoutVersion,
  type Reference,
} from '../reference/index.js';
import { isLoopbackHost, type RegistryClient } from '../registry/index.js';
import type { PatchSource } from './open-source.js';
import type { RunContext } from './patch-image.js';
import { reachableLoader } from './open-source.js';
import { shortDigest } from './run-progress.js';
import { patchedTagOf, platformTag, resolveTargetReference } from './target-reference.js';
import type { PatchImageOptions } from './types.js';

export interface PublishRequest {
  readonly source: PatchSource;
  readonly result: Image | ImageIndex;
  /** Digests of the source manifests the result keeps unchanged (platform images only). */
  readonly keptDigests: readonly string[];
  /** The new image of each patched platform. */
  readonly platformImages: readonly { readonly platform: Platform; readonly image: Image }[];
  readonly options: PatchImageOptions;
}

export interface PublishResult {
  /** The result's name: `registry/repository:tag`, or `oci:DIR:TAG`. */
  readonly target: string;
  readonly digest: string;
  readonly pushed: boolean;
  readonly ociDir: string | undefined;
  readonly loaded: readonly string[];
  readonly commands: readonly string[];
}

/** Where the result goes: a registry reference, or a tag in an OCI layout. */
export type PublishTarget =
  | { readonly kind: 'registry'; readonly reference: Reference }
  | { readonly kind: 'layout-tag'; readonly tag: string };

/**
 * Resolves the target of a run from the source and `--tag`/`--tag-suffix`. A layout source has
 * no repository: a bare tag names a tag of the output layout, a full reference a registry.
 *
 * Throws a `CopaError` with code `USAGE` when no tag can be derived (a digest-only source
 * without `--tag`).
 */
export function resolvePublishTarget(
  source: Pick<PatchSource, 'reference' | 'layout'>,
  options: Pick<PatchImageOptions, 'tag' | 'tagSuffix'>,
): PublishTarget {
  if (source.reference !== undefined) {
    return { kind: 'registry', reference: resolveTargetReference(source.reference, options) };
  }
  const tag = options.tag;
  if (tag !== undefined && (tag.includes(':') || tag.includes('@'))) {
    return { kind: 'registry', reference: resolveTargetReference(parseReference(tag), { tag }) };
  }
  if (tag !== undefined && tag !== '') return { kind: 'layout-tag', tag };
  const sourceTag = source.layout?.tag ?? 'latest';
  const base = { registry: '', repository: '', tag: sourceTag };
  return { kind: 'layout-tag', tag: patchedTagOf(base, options.tagSuffix) };
}

/**
 * Checks that a run can be published: a target name can be derived, and `push` has a registry
 * to go to. Throws a `CopaError` with code `USAGE` otherwise.
 */
export function checkPublishTarget(
  source: Pick<PatchSource, 'reference' | 'layout'>,
  options: Pick<PatchImageOptions, 'tag' | 'tagSuffix' | 'push'>,
): PublishTarget {
  const target = resolvePublishTarget(source, options);
  if (options.push && target.kind !== 'registry') {
    throw new CopaError('USAGE', 'pushing an image read from a layout: no registry named', {
      hint: 'Give --tag as a full reference, such as "127.0.0.1:5000/app:1.2-patched".',
    });
  }
  return target;
}

/**
 * Publishes the result. With `push`: to the target registry, every blob and manifest first
 * (blobs mounted from the source repository or skipped when present), the tag last. Otherwise
 * into the OCI layout `ociDir` (default `./copa-oci`), returning the command that copies it to
 * the target.
 */
export async function publish(
  request: PublishRequest,
  run: RunContext,
  client: RegistryClient,
): Promise<PublishResult> {
  const { options } = request;
  const target = checkPublishTarget(request.source, options);
  if (target.kind === 'registry' && options.push) {
    return pushResult(request, target.reference, run, client);
  }
  return writeResultLayout(request, target, run);
}

async function pushResult(
  request: PublishRequest,
  target: Reference,
  run: RunContext,
  client: RegistryClient,
): Promise<PublishResult> {
  const { result, source } = request;
  const name = formatReference(target);
  const mountFrom = source.reference === undefined ? undefined : withoutVersion(source.reference);
  let digest: string;
  if (isImageIndex(result)) {
    const images = [
      ...request.platformImages.map((p) => p.image),
      ...(await keptImages(request, target)),
    ].map((image) => run.progress.image(image, pushLabel));
    const raw = await result.rawManifest();
    run.logger.info(`pushing "${name}": ${images.length} manifests, then the index`);
    ({ digest } = await pushIndex(client, target, raw, await result.mediaType(), images, {
      ...(mountFrom === undefined ? {} : { mountFrom }),
    }));
  } else {
    const image = run.progress.image(result, pushLabel);
    ({ digest } = await pushImage(client, target, image, mountFrom ? { mountFrom } : {}));
  }
  run.logger.info(`pushed "${name}@${digest}"`);
  return { target: name, digest, pushed: true, ociDir: undefined, loaded: [], commands: [] };
}

function pushLabel(digest: string): string {
  return `pushing layer "${shortDigest(digest)}"`;
}

/** The source's images the result keeps, when they must be copied to another repository. */
async function keptImages(request: PublishRequest, target: Reference): Promise<Image[]> {
  const { source, result } = request;
  if (!isImageIndex(result)) return [];
  const sameRepo =
    source.reference !== undefined &&
    formatRepository(source.reference) === formatRepository(target);
  if (sameRepo || !isImageIndex(source.top)) return [];
  const patched = new Set(await Promise.all(request.platformImages.map((p) => p.image.digest())));
  const kept: Image[] = [];
  for (const d of (await result.indexManifest()).manifests) {
    if (patched.has(d.digest) || !isManifestMediaType(d.mediaType)) continue;
    kept.push(await source.top.image(d.digest));
  }
  return kept;
}

async function writeResultLayout(
  request: PublishRequest,
  target: PublishTarget,
  run: RunContext,
): Promise<PublishResult> {
  const ociDir = resolve(request.options.ociDir ?? 'copa-oci');
  const tag = target.kind === 'registry' ? (target.reference.tag as string) : target.tag;
  const writeLabel = (d: string) => `writing layer "${shortDigest(d)}" to the layout`;
  const result = isImageIndex(request.result)
    ? run.progress.index(request.result, writeLabel)
    : run.progress.image(request.result, writeLabel);
  // TODO: the base layers of a registry source are downloaded again here, a second time after
  // the patch read them; keeping their bytes from that read would spare the download.
  const desc = await writeLayout(ociDir, result, {
    tag,
    logger: run.logger,
    ...(run.signal ? { signal: run.signal } : {}),
  });
  const location = `oci:${ociDir}:${tag}`;
  run.logger.info(`wrote "${location}" (${desc.digest})`);
  const commands: string[] = [];
  if (target.kind === 'registry') {
    const name = formatReference(target.reference);
    // A registry on loopback speaks plain HTTP here; skopeo needs telling so.
    const tls = isLoopbackHost(target.reference.registry) ? ' --dest-tls-verify=false' : '';
    commands.push(`skopeo copy --all${tls} ${location} docker://${name}`);
  }
  const loaded =
    target.kind === 'registry' ? await loadPlatforms(request, target.reference, run) : [];
  commands.push(...publishCommands(request, target, loaded));
  return {
    target: target.kind === 'registry' ? formatReference(target.reference) : location,
    digest: desc.digest,
    pushed: false,
    ociDir,
    loaded,
    commands,
  };
}

/**
 * Loads each patched platform into the local docker or podman engine when one answers: a
 * single-platform result as `<repo>:<tag>`, the platforms of an index as
 * `<repo>:<tag>-<arch>[-<variant>]` (an engine's store holds one platform per name).
 */
async function loadPlatforms(
  request: PublishRequest,
  target: Reference,
  run: RunContext,
): Promise<string[]> {
  const loader = await reachableLoader({ loader: request.options.loader });
  if (loader === undefined) {
    // The user asked for this engine by name: not loading into it is worth a warning.
    if (request.options.loader !== undefined) {
      run.logger.warn(`loading nothing: no ${request.options.loader} engine answers`);
    } else {
      run.logger.debug('loading nothing: no docker or podman engine answers');
    }
    return [];
  }
  const single = !isImageIndex(request.result);
  const loaded: string[] = [];
  for (const { platform, image } of request.platformImages) {
    const tag = single ? (target.tag as string) : platformTag(target.tag as string, platform);
    const name = formatReference({ ...withoutVersion(target), tag });
    await loadIntoDaemon(dockerArchiveStream([{ image, tags: [name] }]), {
      loader,
      logger: run.logger,
      ...(run.signal ? { signal: run.signal } : {}),
    });
    run.logger.info(`${formatPlatform(platform)}: loaded "${name}" into ${loader}`);
    loaded.push(name);
  }
  return loaded;
}

/** The commands that publish loaded platforms as one index, as Copa prints them. */
function publishCommands(
  request: PublishRequest,
  target: PublishTarget,
  loaded: readonly string[],
): string[] {
  if (target.kind !== 'registry' || loaded.length === 0 || !isImageIndex(request.result)) {
    return loaded.map((name) => `docker push ${name}`);
  }
  const kept =
    request.source.reference === undefined
      ? []
      : request.keptDigests.map(
          (d) => `${formatRepository(request.source.reference as Reference)}@${d}`,
        );
  return [
    ...loaded.map((name) => `docker push ${name}`),
    `docker buildx imagetools create --tag ${formatReference(target.reference)} ${[...loaded, ...kept].join(' ')}`,
  ];
}
