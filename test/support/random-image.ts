import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

import tar from 'tar-stream';

import type {
  ConfigFile,
  Descriptor,
  Image,
  ImageIndex,
  IndexManifest,
  Layer,
  Manifest,
  Platform,
} from '../../src/image/types.js';
import { imageFromParts } from '../../src/image/memory-image.js';
import { MediaType } from '../../src/image/types.js';

/** A small deterministic PRNG (mulberry32), so the same seed gives the same image. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function randomBytes(random: () => number, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(random() * 256);
  return out;
}

async function tarOf(files: { name: string; content: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const f of files) {
    pack.entry(
      { name: f.name, size: f.content.length, mode: 0o644, mtime: new Date(0) },
      f.content,
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A layer whose bytes are in memory. */
export function memoryLayer(
  tarBytes: Uint8Array,
  mediaType: string = MediaType.OciLayerGzip,
): Layer {
  const compressed = mediaType.endsWith('gzip') ? gzipSync(tarBytes, { level: 6 }) : tarBytes;
  const once = async function* (bytes: Uint8Array) {
    yield bytes;
  };
  return {
    digest: async () => sha256(compressed),
    diffId: async () => sha256(tarBytes),
    size: async () => compressed.byteLength,
    mediaType: async () => mediaType,
    compressed: async () => once(compressed),
    uncompressed: async () => once(tarBytes),
  };
}

export interface RandomImageOptions {
  layers?: number;
  /** Bytes of random file content per layer. Default 2048. */
  layerSizeBytes?: number;
  platform?: Platform;
  /** Docker schema 2 media types instead of OCI ones. */
  docker?: boolean;
}

/** Builds a seeded random image in memory: a config and gzip layers of random files. */
export async function randomImage(seed: number, options: RandomImageOptions = {}): Promise<Image> {
  const random = seededRandom(seed);
  const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
  const layerMediaType = options.docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip;
  const layers: Layer[] = [];
  for (let i = 0; i < (options.layers ?? 2); i++) {
    const content = randomBytes(random, options.layerSizeBytes ?? 2048);
    layers.push(memoryLayer(await tarOf([{ name: `file-${seed}-${i}`, content }]), layerMediaType));
  }
  const config: ConfigFile = {
    ...platform,
    created: '2020-01-01T00:00:00Z',
    rootfs: { type: 'layers', diff_ids: await Promise.all(layers.map((l) => l.diffId())) },
    config: { Env: [`SEED=${seed}`] },
  };
  const rawConfig = Buffer.from(JSON.stringify(config));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: options.docker ? MediaType.DockerManifest : MediaType.OciManifest,
    config: {
      mediaType: options.docker ? MediaType.DockerConfig : MediaType.OciConfig,
      digest: sha256(rawConfig),
      size: rawConfig.byteLength,
    },
    layers: await Promise.all(layers.map(describeLayer)),
  };
  return memoryImage(Buffer.from(JSON.stringify(manifest)), rawConfig, layers);
}

async function describeLayer(layer: Layer): Promise<Descriptor> {
  return {
    mediaType: await layer.mediaType(),
    digest: await layer.digest(),
    size: await layer.size(),
  };
}

/** An image over manifest and config bytes plus layers in memory, checked as sources are. */
export function memoryImage(
  rawManifest: Uint8Array,
  rawConfig: Uint8Array,
  layers: Layer[],
): Image {
  return imageFromParts({ rawManifest, rawConfig, layers });
}

/** A seeded random index with one image per platform (`linux/amd64`, `linux/arm64/v8`…). */
export async function randomIndex(
  seed: number,
  platforms: readonly string[] = ['linux/amd64', 'linux/arm64/v8'],
  options: { docker?: boolean; layers?: number } = {},
): Promise<{ index: ImageIndex; images: Image[] }> {
  const images: Image[] = [];
  const manifests: Descriptor[] = [];
  for (const [i, p] of platforms.entries()) {
    const [os = 'linux', architecture = 'amd64', variant] = p.split('/');
    const platform: Platform = { os, architecture, ...(variant && { variant }) };
    const image = await randomImage(seed * 100 + i, { ...options, platform });
    images.push(image);
    const raw = await image.rawManifest();
    manifests.push({
      mediaType: await image.mediaType(),
      digest: sha256(raw),
      size: raw.byteLength,
      platform,
    });
  }
  const index: IndexManifest = {
    schemaVersion: 2,
    mediaType: options.docker ? MediaType.DockerManifestList : MediaType.OciIndex,
    manifests,
  };
  const raw = Buffer.from(JSON.stringify(index, null, 2));
  const byDigest = async (digest: string): Promise<Image> => {
    for (const image of images) if ((await image.digest()) === digest) return image;
    throw new Error(`no image ${digest}`);
  };
  return {
    images,
    index: {
      digest: async () => sha256(raw),
      mediaType: async () => index.mediaType ?? MediaType.OciIndex,
      rawManifest: async () => raw,
      indexManifest: async () => index,
      image: byDigest,
      imageIndex: async (digest) => {
        throw new Error(`no index ${digest}`);
      },
    },
  };
}
