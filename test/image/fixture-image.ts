/**
 * Small real images for tests: layers written by our writer, config and manifest built as a
 * registry would serve them.
 */
import { writeLayer } from '../../src/layer/write-layer.js';
import type { LayerEntry } from '../../src/layer/types.js';
import { sha256Digest } from '../../src/image/digest.js';
import {
  imageFromParts,
  indexFromParts,
  manifestDescriptor,
} from '../../src/image/memory-image.js';
import { MediaType, type Image, type ImageIndex, type Platform } from '../../src/image/types.js';

export interface FixtureImageOptions {
  dir: string;
  family?: 'oci' | 'docker';
  platform?: Platform;
  /** One list of entries per layer, bottom first. */
  layers?: LayerEntry[][];
  /** Extra config fields, kept to check that rewrites keep unknown fields. */
  extraConfig?: Record<string, unknown>;
}

/** Returns an entry of a small regular file. */
export function textFile(path: string, text: string): LayerEntry {
  return {
    type: 'file',
    path,
    mode: 0o644,
    uid: 0,
    gid: 0,
    content: { kind: 'bytes', bytes: Buffer.from(text) },
  };
}

/** Builds an image with one history entry per layer. */
export async function fixtureImage(options: FixtureImageOptions): Promise<Image> {
  const family = options.family ?? 'oci';
  const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
  const entries = options.layers ?? [[textFile('etc/os-release', 'ID=test\n')]];
  const layers = [];
  for (const layerEntries of entries) {
    layers.push(
      await writeLayer(layerEntries, {
        compression: 'gzip',
        dir: options.dir,
        mediaTypeFamily: family,
      }),
    );
  }
  const config = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Env: ['PATH=/usr/bin'], Labels: { fixture: 'yes' } },
    created: '2024-01-01T00:00:00Z',
    rootfs: { type: 'layers', diff_ids: await Promise.all(layers.map((l) => l.diffId())) },
    history: layers.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `step ${i}` })),
    ...options.extraConfig,
  };
  const rawConfig = Buffer.from(JSON.stringify(config));
  const manifest = {
    schemaVersion: 2,
    mediaType: family === 'oci' ? MediaType.OciManifest : MediaType.DockerManifest,
    config: {
      mediaType: family === 'oci' ? MediaType.OciConfig : MediaType.DockerConfig,
      digest: sha256Digest(rawConfig),
      size: rawConfig.byteLength,
    },
    layers: await Promise.all(
      layers.map(async (l) => ({
        mediaType: await l.mediaType(),
        digest: await l.digest(),
        size: await l.size(),
      })),
    ),
  };
  return imageFromParts({ rawManifest: Buffer.from(JSON.stringify(manifest)), rawConfig, layers });
}

/** Builds an index over images, each entry carrying its platform; annotations on the index. */
export async function fixtureIndex(
  entries: readonly { image: Image | ImageIndex; platform?: Platform }[],
  options: { family?: 'oci' | 'docker'; annotations?: Record<string, string> } = {},
): Promise<ImageIndex> {
  const docker = options.family === 'docker';
  const manifests = [];
  const children = new Map<string, Image | ImageIndex>();
  for (const { image, platform } of entries) {
    const descriptor = await manifestDescriptor(image);
    manifests.push({ ...descriptor, ...(platform ? { platform } : {}) });
    children.set(descriptor.digest, image);
  }
  const index = {
    schemaVersion: 2,
    mediaType: docker ? MediaType.DockerManifestList : MediaType.OciIndex,
    manifests,
    ...(options.annotations && !docker ? { annotations: options.annotations } : {}),
  };
  return indexFromParts({ rawManifest: Buffer.from(JSON.stringify(index)), children });
}
