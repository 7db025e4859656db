/**
 * The nouns of container images, as the OCI image spec and Docker's schema 2 define them. Wire
 * types keep the specs' field names. They are validated once, where they are parsed.
 */

export const MediaType = {
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** Uncompressed Docker layer, as BuildKit writes it for Docker-format images. */
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export type Digest = `sha256:${string}` | `sha512:${string}`;

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
  readonly 'os.features'?: readonly string[];
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Platform;
  readonly artifactType?: string;
}

/** An image manifest: OCI or Docker schema 2. */
export interface Manifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An image index: OCI index or Docker manifest list. */
export interface IndexManifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface HistoryEntry {
  readonly created?: string;
  readonly created_by?: string;
  readonly author?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

/** The image configuration blob. Unknown fields are kept when it is rewritten. */
export interface ConfigFile {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
  readonly created?: string;
  readonly author?: string;
  readonly config?: Readonly<Record<string, unknown>>;
  readonly rootfs: { readonly type: 'layers'; readonly diff_ids: readonly string[] };
  readonly history?: readonly HistoryEntry[];
  readonly [field: string]: unknown;
}

/**
 * Byte content. Each call of a method returning one opens a fresh stream, which the caller must
 * consume to the end or abandon with `return()` (a `for await` loop with `break` does that).
 */
export type ByteStream = AsyncIterable<Uint8Array>;

/** One layer of an image. Members are lazy: constructing a layer does no I/O. */
export interface Layer {
  /** Digest of the stored (possibly compressed) bytes. */
  digest(): Promise<string>;
  /** Digest of the uncompressed tar. */
  diffId(): Promise<string>;
  /** Size of the stored bytes. */
  size(): Promise<number>;
  mediaType(): Promise<string>;
  /** The stored bytes, verified against `digest()` while they are read. */
  compressed(): Promise<ByteStream>;
  /** The uncompressed tar stream. */
  uncompressed(): Promise<ByteStream>;
}

/** One platform's image. Members are lazy and memoized; concurrent callers share one fetch. */
export interface Image {
  /** Digest of `rawManifest()`. */
  digest(): Promise<string>;
  mediaType(): Promise<string>;
  /** The exact manifest bytes: digests are always computed over these, never re-serialized JSON. */
  rawManifest(): Promise<Uint8Array>;
  manifest(): Promise<Manifest>;
  rawConfigFile(): Promise<Uint8Array>;
  configFile(): Promise<ConfigFile>;
  /** The layers, bottom first. */
  layers(): Promise<readonly Layer[]>;
  layerByDigest(digest: string): Promise<Layer>;
}

/** An index of images (one per platform) and possibly of other indexes and artifacts. */
export interface ImageIndex {
  digest(): Promise<string>;
  mediaType(): Promise<string>;
  rawManifest(): Promise<Uint8Array>;
  indexManifest(): Promise<IndexManifest>;
  image(digest: string): Promise<Image>;
  imageIndex(digest: string): Promise<ImageIndex>;
}

/** Reports whether a media type names an index (OCI index or Docker manifest list). */
export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList;
}

/** Reports whether a media type names an image manifest (OCI or Docker schema 2). */
export function isManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.OciManifest || mediaType === MediaType.DockerManifest;
}
