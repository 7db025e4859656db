/**
 * Reading OCI image layouts: `oci-layout`, `index.json` and `blobs/<algorithm>/<hex>`.
 *
 * See https://github.com/opencontainers/image-spec/blob/v1.1.0/image-layout.md
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { CopaError } from '../errors.js';
import { fileLayer } from '../layer/index.js';
import { splitDigest, verifyBytes } from './digest.js';
import { imageFromParts } from './memory-image.js';
import { parseIndexManifest, parseManifest } from './parse-manifest.js';
import {
  isIndexMediaType,
  type Descriptor,
  type Image,
  type ImageIndex,
  type IndexManifest,
} from './types.js';

/** The annotation naming an `index.json` entry (its tag). */
export const refNameAnnotation = 'org.opencontainers.image.ref.name';

export interface LayoutLocation {
  dir: string;
  tag?: string;
}

const refNamePattern = /^[A-Za-z0-9]+(?:(?:[._-]|__|[:/@+])[A-Za-z0-9]+)*$/;

/**
 * Parses `oci:DIR[:TAG]` (the `oci:` prefix is optional). The first `:` after the prefix starts
 * the tag, as skopeo reads it. Throws a `CopaError` with code `REFERENCE_INVALID` for an empty
 * directory or a malformed tag.
 */
export function parseLayoutLocation(text: string): LayoutLocation {
  const body = text.startsWith('oci:') ? text.slice('oci:'.length) : text;
  const colon = body.indexOf(':');
  const dir = colon === -1 ? body : body.slice(0, colon);
  const tag = colon === -1 ? undefined : body.slice(colon + 1);
  if (dir === '') {
    throw new CopaError('REFERENCE_INVALID', `parsing layout "${text}": no directory`, {
      hint: 'Write the layout as oci:DIR or oci:DIR:TAG.',
    });
  }
  if (tag !== undefined && !refNamePattern.test(tag)) {
    throw new CopaError(
      'REFERENCE_INVALID',
      `parsing layout "${text}": "${tag}" is not a valid tag`,
    );
  }
  return tag === undefined ? { dir } : { dir, tag };
}

/** Formats a location as `oci:DIR[:TAG]`. */
export function formatLayoutLocation(location: LayoutLocation): string {
  return location.tag === undefined ? `oci:${location.dir}` : `oci:${location.dir}:${location.tag}`;
}

/** Returns the path of a blob in a layout. */
export function blobPath(dir: string, digest: string): string {
  const { algorithm, hex } = splitDigest(digest);
  return join(dir, 'blobs', algorithm, hex);
}

/**
 * Reads `index.json` of a layout. Throws a `CopaError` with code `LAYOUT_INVALID` when the
 * directory is not a layout.
 */
export async function readLayoutIndexJson(dir: string): Promise<IndexManifest> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, 'index.json'));
  } catch (err) {
    throw new CopaError('LAYOUT_INVALID', `reading layout "${dir}": no index.json`, {
      cause: err,
      hint: 'Point at a directory written as an OCI image layout (with oci-layout and index.json).',
    });
  }
  return parseIndexManifest(bytes, `index.json of layout "${dir}"`);
}

/**
 * Returns the image or index `index.json` names with `tag`, or its only entry when no tag is
 * given. Blobs are read lazily and verified against their digests (`DIGEST_MISMATCH`).
 *
 * Throws a `CopaError` with code `LAYOUT_INVALID` when the tag is not there, or when no tag is
 * given and the layout holds several entries.
 */
export async function readLayout(location: LayoutLocation): Promise<Image | ImageIndex> {
  const index = await readLayoutIndexJson(location.dir);
  const entry = chooseEntry(index, location);
  return isIndexMediaType(entry.mediaType)
    ? layoutIndex(location.dir, entry)
    : layoutImage(location.dir, entry);
}

function chooseEntry(index: IndexManifest, location: LayoutLocation): Descriptor {
  const where = `layout "${location.dir}"`;
  if (location.tag === undefined) {
    if (index.manifests.length === 1) return index.manifests[0] as Descriptor;
    throw new CopaError(
      'LAYOUT_INVALID',
      `reading ${where}: it holds ${index.manifests.length} entries`,
      {
        hint: 'Name the entry as oci:DIR:TAG.',
      },
    );
  }
  const entry = index.manifests.find((m) => m.annotations?.[refNameAnnotation] === location.tag);
  if (entry === undefined) {
    const tags = index.manifests.flatMap((m) => m.annotations?.[refNameAnnotation] ?? []);
    throw new CopaError('LAYOUT_INVALID', `reading ${where}: no entry tagged "${location.tag}"`, {
      hint:
        tags.length === 0
          ? 'The layout has no tagged entry: pass oci:DIR without a tag if it holds one entry.'
          : `Tags in the layout: ${tags.map((t) => `"${t}"`).join(', ')}; pass one as oci:DIR:TAG.`,
    });
  }
  return entry;
}

/** Reads a blob whole (manifests and configs only) and verifies it. */
export async function readBlob(dir: string, descriptor: Descriptor): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(blobPath(dir, descriptor.digest));
  } catch (err) {
    throw new CopaError(
      'LAYOUT_INVALID',
      `reading blob "${descriptor.digest}" of layout "${dir}": missing`,
      {
        cause: err,
      },
    );
  }
  verifyBytes(bytes, descriptor.digest, `blob "${descriptor.digest}" of layout "${dir}"`);
  return bytes;
}

/** Returns the image a descriptor in a layout points at. Lazy: no I/O before first use. */
export function layoutImage(dir: string, descriptor: Descriptor): Image {
  return imageFromParts(async () => {
    const rawManifest = await readBlob(dir, descriptor);
    const manifest = parseManifest(rawManifest, `manifest "${descriptor.digest}"`);
    const rawConfig = await readBlob(dir, manifest.config);
    const diffIds = configDiffIds(rawConfig);
    const layers = manifest.layers.map((layer, i) =>
      fileLayer(blobPath(dir, layer.digest), {
        mediaType: layer.mediaType,
        digest: layer.digest,
        sizeBytes: layer.size,
        ...(diffIds[i] === undefined ? {} : { diffId: diffIds[i] }),
      }),
    );
    return { rawManifest, rawConfig, layers };
  });
}

function configDiffIds(rawConfig: Uint8Array): (string | undefined)[] {
  try {
    const config = JSON.parse(Buffer.from(rawConfig).toString('utf8')) as {
      rootfs?: { diff_ids?: unknown };
    };
    const ids = config.rootfs?.diff_ids;
    return Array.isArray(ids) ? ids.map((id) => (typeof id === 'string' ? id : undefined)) : [];
  } catch {
    return [];
  }
}

/** Returns the index a descriptor in a layout points at, its children read from the same layout. */
export function layoutIndex(dir: string, descriptor: Descriptor): ImageIndex {
  let raw: Promise<{ bytes: Uint8Array; manifest: IndexManifest }> | undefined;
  const load = () =>
    (raw ??= readBlob(dir, descriptor).then((bytes) => ({
      bytes,
      manifest: parseIndexManifest(bytes, `index "${descriptor.digest}"`),
    })));
  const child = async (digest: string): Promise<Descriptor> => {
    const found = (await load()).manifest.manifests.find((m) => m.digest === digest);
    if (found === undefined) {
      throw new CopaError(
        'MANIFEST_INVALID',
        `reading "${digest}": not in index "${descriptor.digest}"`,
      );
    }
    return found;
  };
  return {
    digest: async () => descriptor.digest,
    mediaType: async () => (await load()).manifest.mediaType ?? descriptor.mediaType,
    rawManifest: async () => (await load()).bytes,
    indexManifest: async () => (await load()).manifest,
    image: async (digest) => layoutImage(dir, await child(digest)),
    imageIndex: async (digest) => layoutIndex(dir, await child(digest)),
  };
}
