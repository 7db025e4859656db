/**
 * Docker archives, the `docker save` / `docker load` format: a tar holding `manifest.json`
 * (per image: `Config`, `RepoTags`, `Layers`), the config blobs and the layer blobs. Layers may
 * be gzip-compressed inside the archive; `docker load` and skopeo detect that.
 *
 * See https://github.com/moby/moby/blob/v27.0.3/image/spec/v1.2.md#combined-image-json--filesystem-changeset-format
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

import { CopaError } from '../errors.js';
import {
  decompressStream,
  detectCompression,
  encodeTarHeader,
  endOfArchive,
  paddingFor,
} from '../layer/index.js';
import { digestStream, sha256Digest, splitDigest, verifyStream } from './digest.js';
import { imageFromParts } from './memory-image.js';
import { indexTarFile, type TarMember } from './tar-index.js';
import { MediaType, type ByteStream, type Descriptor, type Image, type Layer } from './types.js';

export interface DockerArchiveImage {
  image: Image;
  /** Names given to the image on load (`registry.example/app:1.2-patched`). */
  tags: readonly string[];
}

interface ArchiveManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

/**
 * Streams a Docker archive of one or more images. Blobs are stored as `blobs/sha256/<hex>`,
 * each once, layers as they are stored (compressed or not), and verified while they are copied
 * (`DIGEST_MISMATCH`). The caller consumes the stream (into a file, or `docker load`).
 */
export async function* dockerArchiveStream(images: readonly DockerArchiveImage[]): ByteStream {
  const written = new Set<string>();
  const entries: ArchiveManifestEntry[] = [];
  yield directoryHeader('blobs');
  yield directoryHeader('blobs/sha256');

  for (const { image, tags } of images) {
    const manifest = await image.manifest();
    const layers = await image.layers();
    const layerPaths: string[] = [];
    for (const [i, layer] of layers.entries()) {
      const descriptor = manifest.layers[i] as Descriptor;
      layerPaths.push(archiveBlobName(descriptor.digest));
      if (written.has(descriptor.digest)) continue;
      written.add(descriptor.digest);
      yield* member(archiveBlobName(descriptor.digest), descriptor, await layer.compressed());
    }
    const config = manifest.config;
    if (!written.has(config.digest)) {
      written.add(config.digest);
      yield* member(archiveBlobName(config.digest), config, [await image.rawConfigFile()]);
    }
    entries.push({
      Config: archiveBlobName(config.digest),
      RepoTags: [...tags],
      Layers: layerPaths,
    });
  }

  const manifestJson = Buffer.from(JSON.stringify(entries));
  yield encodeTarHeader(fileHeader('manifest.json', manifestJson.byteLength));
  yield manifestJson;
  yield Buffer.alloc(paddingFor(manifestJson.byteLength));
  yield endOfArchive();
}

/** Writes {@link dockerArchiveStream} to a file, through a temporary sibling and a rename. */
export async function writeDockerArchive(
  path: string,
  images: readonly DockerArchiveImage[],
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.partial`);
  try {
    await pipeline(dockerArchiveStream(images), createWriteStream(tmp), { signal: options.signal });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

function archiveBlobName(digest: string): string {
  const { algorithm, hex } = splitDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

function fileHeader(name: string, size: number) {
  return { name, type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size, mtime: 0 };
}

function directoryHeader(name: string): Buffer {
  return encodeTarHeader({
    name,
    type: 'directory',
    mode: 0o755,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 0,
  });
}

async function* member(
  name: string,
  descriptor: Descriptor,
  content: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): ByteStream {
  yield encodeTarHeader(fileHeader(name, descriptor.size));
  const what = `blob "${descriptor.digest}"`;
  yield* verifyStream(toAsync(content), {
    digest: descriptor.digest,
    sizeBytes: descriptor.size,
    what,
  });
  const padding = paddingFor(descriptor.size);
  if (padding > 0) yield Buffer.alloc(padding);
}

async function* toAsync(content: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): ByteStream {
  yield* content;
}

/**
 * Reads one image from a Docker archive file: the entry whose `RepoTags` holds `tag`, or the
 * only entry. The manifest is synthesized in Docker schema 2 form; layer digests come from
 * `blobs/sha256/<hex>` names or are computed by reading each layer once, on first use. Layers
 * are streamed from the archive by byte range and verified.
 *
 * Throws a `CopaError` with code `ARCHIVE_INVALID` for a file that is not such an archive or
 * lacks the tag.
 */
export function readDockerArchive(path: string, options: { tag?: string } = {}): Image {
  return imageFromParts(async () => {
    const members = await indexTarFile(path);
    const manifestJson = members.get('manifest.json');
    if (manifestJson === undefined) invalid(path, 'no manifest.json');
    const entries = JSON.parse((await readMember(path, manifestJson)).toString('utf8')) as unknown;
    const entry = chooseEntry(path, entries, options.tag);

    const rawConfig = await readMember(path, requireMember(path, members, entry.Config));
    const diffIds = (JSON.parse(rawConfig.toString('utf8')) as { rootfs?: { diff_ids?: string[] } })
      .rootfs?.diff_ids;
    const layers: Layer[] = [];
    const descriptors: Descriptor[] = [];
    for (const [i, name] of entry.Layers.entries()) {
      const found = requireMember(path, members, name);
      const descriptor = await layerDescriptor(path, found);
      descriptors.push(descriptor);
      layers.push(archiveLayer(path, found, descriptor, diffIds?.[i]));
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifest,
      config: {
        mediaType: MediaType.DockerConfig,
        digest: sha256Digest(rawConfig),
        size: rawConfig.byteLength,
      },
      layers: descriptors,
    };
    return { rawManifest: Buffer.from(JSON.stringify(manifest)), rawConfig, layers };
  });
}

/** Lists the `RepoTags` of every image in a Docker archive file. */
export async function listDockerArchiveTags(path: string): Promise<string[][]> {
  const members = await indexTarFile(path);
  const manifestJson = members.get('manifest.json');
  if (manifestJson === undefined) invalid(path, 'no manifest.json');
  const entries = JSON.parse((await readMember(path, manifestJson)).toString('utf8')) as unknown;
  if (!Array.isArray(entries)) invalid(path, 'manifest.json is not a list');
  return entries.map((e: ArchiveManifestEntry) => e.RepoTags ?? []);
}

function chooseEntry(
  path: string,
  entries: unknown,
  tag: string | undefined,
): ArchiveManifestEntry {
  if (!Array.isArray(entries) || entries.length === 0)
    invalid(path, 'manifest.json lists no images');
  const valid = entries.every(
    (e: Partial<ArchiveManifestEntry>) => typeof e.Config === 'string' && Array.isArray(e.Layers),
  );
  if (!valid) invalid(path, 'manifest.json entries lack Config or Layers');
  const list = entries as ArchiveManifestEntry[];
  if (tag !== undefined) {
    const found = list.find((e) => e.RepoTags?.includes(tag));
    if (found === undefined) invalid(path, `no image tagged "${tag}"`);
    return found;
  }
  if (list.length > 1) invalid(path, `it holds ${list.length} images; name a tag`);
  return list[0] as ArchiveManifestEntry;
}

function requireMember(path: string, members: Map<string, TarMember>, name: string): TarMember {
  const found = members.get(name.replace(/^(\.\/)+/, ''));
  if (found === undefined) invalid(path, `"${name}" is listed but missing`);
  return found;
}

async function readMember(path: string, member: TarMember): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const bytes = Buffer.alloc(member.sizeBytes);
    await file.read(bytes, 0, member.sizeBytes, member.offset);
    return bytes;
  } finally {
    await file.close();
  }
}

function memberStream(path: string, member: TarMember): ByteStream {
  if (member.sizeBytes === 0) return toAsync([]);
  return createReadStream(path, {
    start: member.offset,
    end: member.offset + member.sizeBytes - 1,
  });
}

const archiveLayerTypes = {
  gzip: MediaType.DockerLayerGzip,
  uncompressed: MediaType.DockerLayer,
  zstd: MediaType.OciLayerZstd,
} as const;

async function layerDescriptor(path: string, member: TarMember): Promise<Descriptor> {
  const head = await readMember(path, { ...member, sizeBytes: Math.min(member.sizeBytes, 4) });
  const named = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(member.name);
  const digest = named
    ? `sha256:${named[1]}`
    : (await digestStream(memberStream(path, member))).digest;
  const mediaType = archiveLayerTypes[detectCompression(head)];
  return { mediaType, digest, size: member.sizeBytes };
}

function archiveLayer(
  path: string,
  member: TarMember,
  descriptor: Descriptor,
  diffId: string | undefined,
): Layer {
  const what = `layer "${member.name}" of archive "${path}"`;
  const compressed = async (): Promise<ByteStream> =>
    verifyStream(memberStream(path, member), {
      digest: descriptor.digest,
      sizeBytes: descriptor.size,
      what,
    });
  let computedDiffId: Promise<string> | undefined;
  return {
    digest: async () => descriptor.digest,
    size: async () => descriptor.size,
    mediaType: async () => descriptor.mediaType,
    diffId: () =>
      (computedDiffId ??=
        diffId !== undefined
          ? Promise.resolve(diffId)
          : compressed().then(async (s) => (await digestStream(decompressStream(s))).digest)),
    compressed,
    uncompressed: async () => decompressStream(await compressed()),
  };
}

function invalid(path: string, reason: string): never {
  throw new CopaError('ARCHIVE_INVALID', `reading archive "${path}": ${reason}`);
}
