import { resolve } from 'node:path';

import { parseLayoutLocation, readLayout, type Image, type ImageIndex } from '../image/index.js';
import { remoteManifestOrIndex } from '../image/remote.js';
import { formatRepository, parseReference, type Reference } from '../reference/index.js';
import type { RegistryClient } from '../registry/index.js';

/** The image a run patches, and where it came from. */
export interface PatchSource {
  readonly kind: 'registry' | 'layout';
  /** The source without a version: `registry/repository`, or `oci:DIR`. */
  readonly name: string;
  /** The parsed reference of a registry source. */
  readonly reference?: Reference;
  /** The directory and tag of a layout source. */
  readonly layout?: { readonly dir: string; readonly tag: string | undefined };
  readonly top: Image | ImageIndex;
}

/**
 * Opens the image to patch: `oci:DIR[:TAG]` is an OCI image layout; anything else is a
 * registry reference, normalised as Docker does (`debian:12` is
 * `docker.io/library/debian:12`). Nothing but the top manifest is read.
 *
 * Throws a `CopaError` with code `REFERENCE_INVALID` for a malformed reference,
 * `LAYOUT_INVALID` for a broken layout, and the registry codes for a registry source.
 */
export async function openSource(image: string, client: RegistryClient): Promise<PatchSource> {
  if (image.startsWith('oci:')) {
    const location = parseLayoutLocation(image);
    const dir = resolve(location.dir);
    const top = await readLayout({ ...location, dir });
    return { kind: 'layout', name: `oci:${dir}`, layout: { dir, tag: location.tag }, top };
  }
  // TODO: images only in the local docker or podman engine are not read; copa reads registries
  // and OCI layouts, so such an image must be pushed or saved to a layout first.
  const reference = parseReference(image);
  const fetched = await remoteManifestOrIndex(reference, client);
  const top = fetched.kind === 'index' ? fetched.index : fetched.image;
  return { kind: 'registry', name: formatRepository(reference), reference, top };
}
