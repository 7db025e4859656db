import { resolve } from 'node:path';

import { isCopaError } from '../errors.js';
import {
  imageFromDaemon,
  isDaemonReachable,
  parseLayoutLocation,
  readLayout,
  remoteManifestOrIndex,
  type Image,
  type ImageIndex,
  type Loader,
} from '../image/index.js';
import type { Logger } from '../log.js';
import {
  familiarReference,
  formatRepository,
  parseReference,
  type Reference,
} from '../reference/index.js';
import type { RegistryClient } from '../registry/index.js';

/** The image a run patches, and where it came from. */
export interface PatchSource {
  readonly kind: 'registry' | 'layout' | 'daemon';
  /** The source without a version: `registry/repository`, or `oci:DIR`. */
  readonly name: string;
  /** The parsed reference of a registry or daemon source. */
  readonly reference?: Reference;
  /** The directory and tag of a layout source. */
  readonly layout?: { readonly dir: string; readonly tag: string | undefined };
  readonly top: Image | ImageIndex;
}

export interface OpenSourceOptions {
  readonly client: RegistryClient;
  /** The engine to fall back to; detected (docker, then podman) when absent. */
  readonly loader?: Loader | undefined;
  readonly workDir: string;
  readonly logger: Logger;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Opens the image to patch: `oci:DIR[:TAG]` is an OCI image layout; anything else is a
 * registry reference, normalised as Docker does (`debian:12` is `docker.io/library/debian:12`).
 * When the registry does not have it or cannot be reached, the image is read from the local
 * docker or podman engine if one answers (one platform: what the engine holds). Nothing but the
 * top manifest is read from a registry.
 *
 * Throws a `CopaError` with code `REFERENCE_INVALID` for a malformed reference,
 * `LAYOUT_INVALID` for a broken layout, and the registry codes for a registry source.
 */
export async function openSource(image: string, options: OpenSourceOptions): Promise<PatchSource> {
  if (image.startsWith('oci:')) {
    const location = parseLayoutLocation(image);
    const dir = resolve(location.dir);
    const top = await readLayout({ ...location, dir });
    return { kind: 'layout', name: `oci:${dir}`, layout: { dir, tag: location.tag }, top };
  }
  const reference = parseReference(image);
  const name = formatRepository(reference);
  try {
    const fetched = await remoteManifestOrIndex(reference, options.client);
    const top = fetched.kind === 'index' ? fetched.index : fetched.image;
    return { kind: 'registry', name, reference, top };
  } catch (err) {
    if (!isCopaError(err, 'REGISTRY_NOT_FOUND', 'REGISTRY_UNREACHABLE')) throw err;
    const loader = await reachableLoader(options);
    if (loader === undefined) throw err;
    options.logger.info(`reading "${image}" from the local ${loader} engine: ${err.message}`);
    const top = await imageFromDaemon(familiarReference(reference), {
      loader,
      workDir: options.workDir,
      logger: options.logger,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { kind: 'daemon', name, reference, top };
  }
}

/** The given loader when its engine answers, else the first of docker and podman that does. */
export async function reachableLoader(options: {
  readonly loader?: Loader | undefined;
}): Promise<Loader | undefined> {
  for (const loader of options.loader ? [options.loader] : (['docker', 'podman'] as const)) {
    if (await isDaemonReachable(loader)) return loader;
  }
  return undefined;
}
