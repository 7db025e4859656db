/**
 * Images and indexes in a registry: lazy sources backed by the registry client, and the sink
 * that pushes them (blobs first, manifests after, the tag last).
 */
import { CopaError } from '../errors.js';
import { decompressStream } from '../layer/index.js';
import {
  formatReference,
  formatRepository,
  withDigest,
  withoutVersion,
  type Reference,
} from '../reference/index.js';
import {
  mapLimit,
  type ManifestResult,
  type RegistryClient,
  type RepositoryName,
} from '../registry/index.js';
import { parseConfigFile, parseIndexManifest, parseManifest } from './parse-manifest.js';
import {
  MediaType,
  isIndexMediaType,
  type ByteStream,
  type ConfigFile,
  type Descriptor,
  type Image,
  type ImageIndex,
  type IndexManifest,
  type Layer,
  type Manifest,
} from './types.js';

/** What a reference names in a registry: one image, or an index of them. */
export type RemoteManifest = { kind: 'image'; image: Image } | { kind: 'index'; index: ImageIndex };

/** A layer that knows the repository it can be read from, so a push can mount it. */
export interface RemoteSource {
  readonly remoteSource: RepositoryName;
}

/** Reports whether `x` (a layer, say) comes from a registry repository. */
export function hasRemoteSource(x: unknown): x is RemoteSource {
  return typeof x === 'object' && x !== null && 'remoteSource' in x;
}

/**
 * Fetches the manifest `ref` names and returns it as a lazy image or index; configs, child
 * manifests and blobs are fetched on first use, and each at most once.
 *
 * @throws {RegistryError} as {@link RegistryClient.getManifest} does; `MEDIA_TYPE_UNSUPPORTED`
 * for manifests that are neither an image nor an index.
 */
export async function remoteManifestOrIndex(
  ref: Reference,
  client: RegistryClient,
): Promise<RemoteManifest> {
  const fetched = await client.getManifest(ref);
  const repo = withoutVersion(ref);
  if (isIndexMediaType(fetched.mediaType)) {
    return { kind: 'index', index: remoteIndexOf(client, repo, fetched) };
  }
  return { kind: 'image', image: remoteImageOf(client, repo, checkImageType(fetched, ref)) };
}

function checkImageType(fetched: ManifestResult, ref: Reference): ManifestResult {
  if (
    fetched.mediaType === MediaType.OciManifest ||
    fetched.mediaType === MediaType.DockerManifest
  ) {
    return fetched;
  }
  throw new CopaError(
    'MEDIA_TYPE_UNSUPPORTED',
    `reading "${formatReference(ref)}": unsupported manifest type "${fetched.mediaType}"`,
    { hint: 'Only OCI and Docker schema 2 images and indexes can be patched.' },
  );
}

function memo<T>(load: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= load());
}

/** An image over manifest bytes already fetched from `repo`. */
export function remoteImageOf(
  client: RegistryClient,
  repo: RepositoryName,
  fetched: ManifestResult,
): Image {
  const manifest = memo(async (): Promise<Manifest> =>
    parseManifest(fetched.bytes, `manifest "${fetched.digest}"`),
  );
  const rawConfig = memo(async () => {
    const { config } = await manifest();
    return collect(await client.getBlob(repo, config.digest, { size: config.size }));
  });
  const configFile = memo(async (): Promise<ConfigFile> =>
    parseConfigFile(await rawConfig(), `config of "${fetched.digest}"`),
  );
  const layers = memo(async (): Promise<readonly Layer[]> => {
    const [m, config] = await Promise.all([manifest(), configFile()]);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== m.layers.length) {
      throw new CopaError(
        'MANIFEST_INVALID',
        `reading image "${fetched.digest}": ` +
          `${m.layers.length} layers but ${diffIds.length} diff IDs`,
      );
    }
    return m.layers.map((d, i) => remoteLayer(client, repo, d, diffIds[i] ?? ''));
  });
  return {
    digest: async () => fetched.digest,
    mediaType: async () => fetched.mediaType,
    rawManifest: async () => fetched.bytes,
    manifest,
    rawConfigFile: rawConfig,
    configFile,
    layers,
    layerByDigest: async (digest) => {
      const [m, all] = await Promise.all([manifest(), layers()]);
      const found = all[m.layers.findIndex((d) => d.digest === digest)];
      if (found) return found;
      throw new CopaError(
        'LAYER_INVALID',
        `finding layer "${digest}": not in image "${fetched.digest}"`,
      );
    },
  };
}

/** A layer whose blob is streamed from `repo` and verified while it is read. */
export function remoteLayer(
  client: RegistryClient,
  repo: RepositoryName,
  descriptor: Descriptor,
  diffId: string,
): Layer & RemoteSource {
  const compressed = (): Promise<ByteStream> =>
    client.getBlob(repo, descriptor.digest, { size: descriptor.size });
  return {
    remoteSource: repo,
    digest: async () => descriptor.digest,
    diffId: async () => diffId,
    size: async () => descriptor.size,
    mediaType: async () => descriptor.mediaType,
    compressed,
    uncompressed: async () => decompressStream(await compressed()),
  };
}

/** An index over manifest bytes already fetched from `repo`; children are fetched by digest. */
export function remoteIndexOf(
  client: RegistryClient,
  repo: RepositoryName,
  fetched: ManifestResult,
): ImageIndex {
  const indexManifest = memo(async (): Promise<IndexManifest> =>
    parseIndexManifest(fetched.bytes, `index "${fetched.digest}"`),
  );
  // One child object per digest, so its config and layers are fetched once however often asked.
  const children = new Map<string, Promise<Image | ImageIndex>>();
  const ref = `${formatRepository(repo)}@${fetched.digest}`;
  const child = async (digest: string, kind: 'image' | 'index'): Promise<Image | ImageIndex> => {
    let c = children.get(digest);
    if (!c) {
      c = client.getManifest({ ...repo, digest }).then((m) => {
        if (isIndexMediaType(m.mediaType)) return remoteIndexOf(client, repo, m);
        return remoteImageOf(client, repo, checkImageType(m, { ...repo, digest }));
      });
      children.set(digest, c);
    }
    const found = await c;
    if (isImageIndex(found) !== (kind === 'index')) {
      const [want, got] = kind === 'index' ? ['an index', 'an image'] : ['an image', 'an index'];
      throw new CopaError(
        'MANIFEST_INVALID',
        `reading "${digest}" in "${ref}": ${got}, not ${want}`,
      );
    }
    return found;
  };
  return {
    digest: async () => fetched.digest,
    mediaType: async () => fetched.mediaType,
    rawManifest: async () => fetched.bytes,
    indexManifest,
    image: async (digest) => (await child(digest, 'image')) as Image,
    imageIndex: async (digest) => (await child(digest, 'index')) as ImageIndex,
  };
}

function isImageIndex(x: Image | ImageIndex): x is ImageIndex {
  return 'indexManifest' in x;
}

async function collect(stream: ByteStream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Counts of what a push did with each blob. */
export interface PushResult {
  /** Digest of the pushed manifest. */
  readonly digest: string;
  /** Blobs sent over the wire. */
  readonly uploaded: number;
  /** Blobs linked from another repository of the same registry. */
  readonly mounted: number;
  /** Blobs the target repository already had. */
  readonly existing: number;
}

export interface PushImageOptions {
  /** A repository on the target registry that may hold the layers, to mount them from. */
  mountFrom?: RepositoryName;
}

/**
 * Pushes an image to `target`: every layer first (skipped when present, mounted from
 * `mountFrom` or the layer's own source repository when on the same registry, else uploaded),
 * then the config, then the manifest, by tag when `target` has one, else by digest. Foreign
 * (non-distributable) layers are not pushed.
 */
export async function pushImage(
  client: RegistryClient,
  target: Reference,
  image: Image,
  options: PushImageOptions = {},
): Promise<PushResult> {
  const [manifest, layers] = await Promise.all([image.manifest(), image.layers()]);
  const repo = withoutVersion(target);
  const outcomes = await mapLimit(manifest.layers, client.concurrency, async (desc, i) => {
    const layer = layers[i];
    if (!layer || isForeign(desc)) return 'skipped' as const;
    return pushLayer(client, repo, desc, layer, options);
  });

  const config = manifest.config;
  let configOutcome: 'existing' | 'uploaded' = 'existing';
  if (!(await client.blobExists(repo, config.digest))) {
    const bytes = await image.rawConfigFile();
    await client.pushBlob(repo, config.digest, bytes.byteLength, () => once(bytes));
    configOutcome = 'uploaded';
  }

  const rawManifest = await image.rawManifest();
  const manifestRef = target.tag !== undefined || target.digest !== undefined ? target : repo;
  const digest = await client.putManifest(manifestRef, rawManifest, await image.mediaType());
  const all = [...outcomes, configOutcome];
  return {
    digest,
    uploaded: all.filter((o) => o === 'uploaded').length,
    mounted: all.filter((o) => o === 'mounted').length,
    existing: all.filter((o) => o === 'existing').length,
  };
}

function isForeign(desc: Descriptor): boolean {
  return desc.mediaType === MediaType.DockerForeignLayerGzip || (desc.urls?.length ?? 0) > 0;
}

async function pushLayer(
  client: RegistryClient,
  repo: RepositoryName,
  desc: Descriptor,
  layer: Layer,
  options: PushImageOptions,
): Promise<'existing' | 'mounted' | 'uploaded'> {
  if (await client.blobExists(repo, desc.digest)) return 'existing';
  const sources = [options.mountFrom, hasRemoteSource(layer) ? layer.remoteSource : undefined];
  for (const from of sources) {
    if (!from || from.registry !== repo.registry || from.repository === repo.repository) continue;
    if (await client.mountBlob(repo, desc.digest, from.repository)) return 'mounted';
  }
  await client.pushBlob(repo, desc.digest, desc.size, () => lazyStream(() => layer.compressed()));
  return 'uploaded';
}

async function* once(bytes: Uint8Array): ByteStream {
  yield bytes;
}

async function* lazyStream(open: () => Promise<ByteStream>): ByteStream {
  yield* await open();
}

/**
 * Pushes an index: each child manifest by digest (with its blobs, as {@link pushImage} does),
 * then the exact `indexBytes` under `target`'s tag, last, so the tag never names an incomplete
 * index. Children not among `images` must already be in the target repository.
 *
 * @throws {CopaError} `MANIFEST_INVALID` when a child is neither given nor present.
 */
export async function pushIndex(
  client: RegistryClient,
  target: Reference,
  indexBytes: Uint8Array,
  mediaType: string,
  images: readonly Image[],
  options: PushImageOptions = {},
): Promise<PushResult> {
  const index = parseIndexManifest(indexBytes, `index for "${formatReference(target)}"`);
  const repo = withoutVersion(target);
  const byDigest = new Map<string, Image>();
  for (const image of images) byDigest.set(await image.digest(), image);

  // TODO: nested indexes are not pushed; a child index must already be in the target repository.
  const results = await mapLimit(index.manifests, client.concurrency, async (desc) => {
    const image = byDigest.get(desc.digest);
    if (image) return pushImage(client, withDigest(repo, desc.digest), image, options);
    if (await client.headManifest(withDigest(repo, desc.digest))) return undefined;
    throw new CopaError(
      'MANIFEST_INVALID',
      `pushing index "${formatReference(target)}": ` +
        `manifest "${desc.digest}" is neither given nor in the repository`,
      { hint: 'Pass every image the index lists, or push the missing manifests first.' },
    );
  });

  // The tag is written last, once every child manifest and blob is in place.
  const digest = await client.putManifest(
    target.tag !== undefined ? target : repo,
    indexBytes,
    mediaType,
  );
  const sum = (key: 'uploaded' | 'mounted' | 'existing'): number =>
    results.reduce((n, r) => n + (r?.[key] ?? 0), 0);
  return { digest, uploaded: sum('uploaded'), mounted: sum('mounted'), existing: sum('existing') };
}
