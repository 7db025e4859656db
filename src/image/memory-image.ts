/**
 * Images and indexes assembled from exact manifest and config bytes plus layer objects: what the
 * pure transforms return, and what sources (layouts, archives) build.
 */
import { CopaError } from '../errors.js';
import { sha256Digest, verifyBytes } from './digest.js';
import { parseConfigFile, parseIndexManifest, parseManifest } from './parse-manifest.js';
import type {
  ConfigFile,
  Descriptor,
  Image,
  ImageIndex,
  IndexManifest,
  Layer,
  Manifest,
} from './types.js';
import { MediaType } from './types.js';

export interface ImageParts {
  rawManifest: Uint8Array;
  rawConfig: Uint8Array;
  /** The layers, bottom first, in the manifest's order. */
  layers: readonly Layer[];
}

/**
 * Returns an image over the given bytes and layers, or over parts computed on first use. The
 * manifest is parsed and the config bytes checked against its config digest once; the config is
 * parsed only by `configFile()`, so artifacts with other config types pass through. `layers()`
 * returns the layers as given.
 *
 * Throws (from its members) a `CopaError` with code `MANIFEST_INVALID` for unparseable bytes,
 * or `DIGEST_MISMATCH` when the config bytes do not match the manifest.
 */
export function imageFromParts(parts: ImageParts | (() => Promise<ImageParts>)): Image {
  let checked: Promise<Checked> | undefined;
  let config: Promise<ConfigFile> | undefined;
  const load = () => (checked ??= checkParts(typeof parts === 'function' ? parts() : parts));
  const parseConfig = async () => {
    const { parts: resolved, manifest } = await load();
    return parseConfigFile(resolved.rawConfig, `config "${manifest.config.digest}"`);
  };
  return {
    digest: async () => (await load()).digest,
    mediaType: async () => (await load()).mediaType,
    rawManifest: async () => (await load()).parts.rawManifest,
    manifest: async () => (await load()).manifest,
    rawConfigFile: async () => (await load()).parts.rawConfig,
    configFile: () => (config ??= parseConfig()),
    layers: async () => (await load()).parts.layers,
    layerByDigest: async (digest) => findLayer((await load()).parts.layers, digest),
  };
}

interface Checked {
  parts: ImageParts;
  digest: string;
  mediaType: string;
  manifest: Manifest;
}

async function checkParts(pending: ImageParts | Promise<ImageParts>): Promise<Checked> {
  const parts = await pending;
  const digest = sha256Digest(parts.rawManifest);
  const manifest = parseManifest(parts.rawManifest, `manifest "${digest}"`);
  verifyBytes(parts.rawConfig, manifest.config.digest, `config of manifest "${digest}"`);
  if (parts.layers.length !== manifest.layers.length) {
    throw new CopaError(
      'MANIFEST_INVALID',
      `assembling image "${digest}": ${parts.layers.length} layers for ` +
        `${manifest.layers.length} descriptors`,
    );
  }
  return { parts, digest, mediaType: manifestMediaType(manifest), manifest };
}

/** The media type of a manifest: its own field, else inferred from its config's media type. */
export function manifestMediaType(manifest: Manifest): string {
  if (manifest.mediaType) return manifest.mediaType;
  return manifest.config.mediaType === MediaType.DockerConfig
    ? MediaType.DockerManifest
    : MediaType.OciManifest;
}

async function findLayer(layers: readonly Layer[], digest: string): Promise<Layer> {
  for (const layer of layers) {
    if ((await layer.digest()) === digest) return layer;
  }
  throw new CopaError('LAYER_INVALID', `finding layer "${digest}": not a layer of this image`);
}

export interface IndexParts {
  rawManifest: Uint8Array;
  /** Images and indexes by manifest digest; digests missing here are looked up in `fallback`. */
  children: ReadonlyMap<string, Image | ImageIndex>;
  fallback?: ImageIndex;
}

/**
 * Returns an index over exact bytes whose children come from `children`, else from `fallback`
 * (the index it was derived from). Computed parts are resolved on first use.
 */
export function indexFromParts(parts: IndexParts | (() => Promise<IndexParts>)): ImageIndex {
  let loaded: Promise<{ parts: IndexParts; manifest: IndexManifest; digest: string }> | undefined;
  const load = () =>
    (loaded ??= (async () => {
      const resolved = typeof parts === 'function' ? await parts() : parts;
      const digest = sha256Digest(resolved.rawManifest);
      const manifest = parseIndexManifest(resolved.rawManifest, `index "${digest}"`);
      return { parts: resolved, manifest, digest };
    })());

  const child = async (digest: string, kind: 'image' | 'index') => {
    const { parts: resolved, digest: own } = await load();
    const found = resolved.children.get(digest);
    if (found !== undefined) {
      if (kind === 'index' ? isImageIndex(found) : !isImageIndex(found)) return found;
      throw new CopaError(
        'MANIFEST_INVALID',
        `reading "${digest}" in index "${own}": not an ${kind}`,
      );
    }
    if (resolved.fallback === undefined) {
      throw new CopaError('MANIFEST_INVALID', `reading "${digest}": not in index "${own}"`);
    }
    return kind === 'image'
      ? resolved.fallback.image(digest)
      : resolved.fallback.imageIndex(digest);
  };

  return {
    digest: async () => (await load()).digest,
    mediaType: async () => (await load()).manifest.mediaType ?? MediaType.OciIndex,
    rawManifest: async () => (await load()).parts.rawManifest,
    indexManifest: async () => (await load()).manifest,
    image: async (digest) => (await child(digest, 'image')) as Image,
    imageIndex: async (digest) => (await child(digest, 'index')) as ImageIndex,
  };
}

/** Type guard telling an index from an image by its members. */
export function isImageIndex(value: Image | ImageIndex): value is ImageIndex {
  return typeof (value as Partial<ImageIndex>).indexManifest === 'function';
}

/** Returns the descriptor (media type, digest, size) of an image or index manifest. */
export async function manifestDescriptor(source: Image | ImageIndex): Promise<Descriptor> {
  const raw = await source.rawManifest();
  return {
    mediaType: await source.mediaType(),
    digest: await source.digest(),
    size: raw.byteLength,
  };
}
