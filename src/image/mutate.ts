/**
 * Pure image transforms. Each returns a new lazy image; the base is never changed. The new
 * manifest and config are serialized once and kept as exact bytes, so their digests are stable.
 */
import { CopaError } from '../errors.js';
import { sha256Digest } from './digest.js';
import { imageFromParts, type ImageParts } from './memory-image.js';
import { MediaType, type Descriptor, type HistoryEntry, type Image, type Layer } from './types.js';

type Json = Record<string, unknown>;

export interface LayerAddition {
  layer: Layer;
  /** The layer's history entry (`created_by`, `comment`); `created` defaults to the image's. */
  history: HistoryEntry;
}

export interface AppendOptions {
  /** RFC 3339 time for the config's `created` and the new history entries; kept when absent. */
  created?: string;
  /**
   * Annotations merged into an OCI manifest's own. Docker schema 2 manifests have no
   * annotations, so they are dropped there.
   */
  annotations?: Readonly<Record<string, string>>;
}

/**
 * Returns `base` with `layer` on top: a new config (the layer's diffId appended to
 * `rootfs.diff_ids`, one history entry added; architecture, os, variant and every unknown field
 * kept) and a new manifest in the base's media-type family (Docker schema 2 stays Docker, with
 * Docker layer media types; OCI stays OCI).
 *
 * Members throw a `CopaError` with code `MEDIA_TYPE_UNSUPPORTED` for a zstd layer on a Docker
 * image.
 */
export function appendLayer(
  base: Image,
  layer: Layer,
  options: AppendOptions & { history: HistoryEntry },
): Image {
  return appendLayers(base, [{ layer, history: options.history }], options);
}

/** Like {@link appendLayer}, for several layers, bottom first. */
export function appendLayers(
  base: Image,
  additions: readonly LayerAddition[],
  options: AppendOptions = {},
): Image {
  return imageFromParts(async () => {
    const [manifest, config, layers, mediaType] = await Promise.all([
      rawJson(await base.rawManifest()),
      rawJson(await base.rawConfigFile()),
      base.layers(),
      base.mediaType(),
    ]);
    const docker = mediaType === MediaType.DockerManifest;
    const descriptors: Descriptor[] = [];
    const diffIds: string[] = [];
    for (const { layer } of additions) {
      descriptors.push(await layerDescriptor(layer, docker));
      diffIds.push(await layer.diffId());
    }

    const rootfs = config['rootfs'] as Json;
    const history = (config['history'] as HistoryEntry[] | undefined) ?? [];
    const created = options.created;
    const newConfig: Json = {
      ...config,
      ...(created === undefined ? {} : { created }),
      rootfs: { ...rootfs, diff_ids: [...(rootfs['diff_ids'] as string[]), ...diffIds] },
      history: [...history, ...additions.map((a) => withCreated(a.history, created))],
    };
    const newLayers = [...layers, ...additions.map((a) => a.layer)];
    return rebuild(manifest, newConfig, newLayers, {
      layers: [...(manifest['layers'] as Descriptor[]), ...descriptors],
      annotations: docker ? undefined : options.annotations,
    });
  });
}

/**
 * Returns `base` without its top `count` layers: their descriptors, their diffIds and their
 * history entries (the last `count` entries that are not `empty_layer`, with any empty entries
 * above them) are removed. Used to take a previous patch layer off before writing a new one.
 *
 * Members throw a `CopaError` with code `MANIFEST_INVALID` when the image has fewer layers.
 */
export function removeTopLayers(base: Image, count: number): Image {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`layer count must be a non-negative integer, got ${count}`);
  }
  return imageFromParts(async () => {
    const [manifest, config, layers] = await Promise.all([
      rawJson(await base.rawManifest()),
      rawJson(await base.rawConfigFile()),
      base.layers(),
    ]);
    if (count > layers.length) {
      throw new CopaError(
        'MANIFEST_INVALID',
        `removing ${count} layers from image "${await base.digest()}": it has ${layers.length}`,
      );
    }
    const keep = layers.length - count;
    const rootfs = config['rootfs'] as Json;
    const history = config['history'] as HistoryEntry[] | undefined;
    const newConfig: Json = {
      ...config,
      rootfs: { ...rootfs, diff_ids: (rootfs['diff_ids'] as string[]).slice(0, keep) },
      ...(history === undefined ? {} : { history: dropHistory(history, count) }),
    };
    return rebuild(manifest, newConfig, layers.slice(0, keep), {
      layers: (manifest['layers'] as Descriptor[]).slice(0, keep),
    });
  });
}

/**
 * Returns `base` with its top `count` layers replaced by `additions`: a previous patch layer
 * swapped for a new one, so patch layers never pile up.
 */
export function replaceTopLayers(
  base: Image,
  count: number,
  additions: readonly LayerAddition[],
  options: AppendOptions = {},
): Image {
  return appendLayers(removeTopLayers(base, count), additions, options);
}

function dropHistory(history: readonly HistoryEntry[], count: number): HistoryEntry[] {
  let end = history.length;
  for (let removed = 0; removed < count && end > 0; end--) {
    if (!history[end - 1]?.empty_layer) removed++;
  }
  return history.slice(0, end);
}

function withCreated(entry: HistoryEntry, created: string | undefined): HistoryEntry {
  return entry.created !== undefined || created === undefined ? entry : { created, ...entry };
}

/** Serializes the config, points the manifest at it and returns the parts of the new image. */
function rebuild(
  manifest: Json,
  config: Json,
  layers: readonly Layer[],
  changes: { layers: readonly Descriptor[]; annotations?: Readonly<Record<string, string>> },
): ImageParts {
  const rawConfig = Buffer.from(JSON.stringify(config));
  const oldConfig = manifest['config'] as Descriptor;
  const newManifest: Json = {
    ...manifest,
    config: { ...oldConfig, digest: sha256Digest(rawConfig), size: rawConfig.byteLength },
    layers: changes.layers,
  };
  if (changes.annotations !== undefined) {
    const annotations = manifest['annotations'] as Record<string, string> | undefined;
    newManifest['annotations'] = { ...annotations, ...changes.annotations };
  }
  return { rawManifest: Buffer.from(JSON.stringify(newManifest)), rawConfig, layers };
}

const toDocker: Readonly<Record<string, string>> = {
  [MediaType.OciLayerGzip]: MediaType.DockerLayerGzip,
  [MediaType.OciLayer]: MediaType.DockerLayer,
};
const toOci: Readonly<Record<string, string>> = {
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  [MediaType.DockerLayer]: MediaType.OciLayer,
};

/** The descriptor of a new layer, its media type translated into the image's family. */
async function layerDescriptor(layer: Layer, docker: boolean): Promise<Descriptor> {
  const own = await layer.mediaType();
  const mediaType = (docker ? toDocker[own] : toOci[own]) ?? own;
  if (docker && mediaType === MediaType.OciLayerZstd) {
    throw new CopaError(
      'MEDIA_TYPE_UNSUPPORTED',
      'appending layer: Docker images have no zstd layers',
      {
        hint: 'Write the layer with gzip or no compression for a Docker-format image.',
      },
    );
  }
  return { mediaType, digest: await layer.digest(), size: await layer.size() };
}

function rawJson(bytes: Uint8Array): Json {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as Json;
}
