/**
 * Writing OCI image layouts. Blobs go first, each through a temporary file renamed into place
 * once verified; `index.json` is replaced last, by rename, so a reader never sees a tag whose
 * blobs are missing.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { silentLogger, type Logger } from '../log.js';
import { verifyBytes, verifyStream } from './digest.js';
import { blobPath, readLayoutIndexJson, refNameAnnotation } from './layout.js';
import { isImageIndex, manifestDescriptor } from './memory-image.js';
import {
  isIndexMediaType,
  MediaType,
  type ByteStream,
  type Descriptor,
  type Image,
  type ImageIndex,
  type Platform,
} from './types.js';

export interface WriteLayoutOptions {
  /** Written as the entry's `org.opencontainers.image.ref.name`; an entry with it is replaced. */
  tag?: string;
  /** Platform of a single image's entry; read from its config when absent. */
  platform?: Platform;
  logger?: Logger;
  signal?: AbortSignal;
}

/**
 * Writes an image, or an index with every image and nested index it lists, into an OCI layout
 * directory (created when missing), and adds it to `index.json`. All blobs are streamed and
 * verified against their digests (`DIGEST_MISMATCH`); a blob already present with the right size
 * is kept. Other entries of an existing layout are kept. Returns the new `index.json` entry.
 */
export async function writeLayout(
  dir: string,
  source: Image | ImageIndex,
  options: WriteLayoutOptions = {},
): Promise<Descriptor> {
  const writer = new BlobWriter(dir, options.logger ?? silentLogger, options.signal);
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeAtomically(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');

  if (isImageIndex(source)) await writer.index(source);
  else await writer.image(source);

  const descriptor = await entryDescriptor(source, options);
  await updateIndexJson(dir, descriptor, options.tag);
  return descriptor;
}

async function entryDescriptor(
  source: Image | ImageIndex,
  options: WriteLayoutOptions,
): Promise<Descriptor> {
  const descriptor = await manifestDescriptor(source);
  const platform = isImageIndex(source)
    ? undefined
    : (options.platform ?? (await configPlatform(source)));
  return {
    ...descriptor,
    ...(platform === undefined ? {} : { platform }),
    ...(options.tag === undefined ? {} : { annotations: { [refNameAnnotation]: options.tag } }),
  };
}

async function configPlatform(image: Image): Promise<Platform | undefined> {
  try {
    const config = await image.configFile();
    return {
      architecture: config.architecture,
      os: config.os,
      ...(config.variant ? { variant: config.variant } : {}),
      ...(config['os.version'] ? { 'os.version': config['os.version'] } : {}),
    };
  } catch {
    return undefined;
  }
}

async function updateIndexJson(
  dir: string,
  entry: Descriptor,
  tag: string | undefined,
): Promise<void> {
  let existing: readonly Descriptor[] = [];
  let extra: Record<string, unknown> = {};
  try {
    await stat(join(dir, 'index.json'));
    const index = await readLayoutIndexJson(dir);
    existing = index.manifests;
    extra = index as unknown as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const kept = existing.filter((m) =>
    tag === undefined
      ? m.digest !== entry.digest || m.annotations?.[refNameAnnotation] !== undefined
      : m.annotations?.[refNameAnnotation] !== tag,
  );
  const index = {
    ...extra,
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [...kept, entry],
  };
  await writeAtomically(join(dir, 'index.json'), JSON.stringify(index));
}

/** Writes a file through a temporary sibling and a rename. */
export async function writeAtomically(path: string, content: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.partial`);
  await writeFile(tmp, content);
  await rename(tmp, path);
}

class BlobWriter {
  readonly #dir: string;
  readonly #logger: Logger;
  readonly #signal: AbortSignal | undefined;

  constructor(dir: string, logger: Logger, signal: AbortSignal | undefined) {
    this.#dir = dir;
    this.#logger = logger;
    this.#signal = signal;
  }

  async index(index: ImageIndex): Promise<void> {
    const manifest = await index.indexManifest();
    for (const child of manifest.manifests) {
      this.#signal?.throwIfAborted();
      if (isIndexMediaType(child.mediaType)) await this.index(await index.imageIndex(child.digest));
      else await this.image(await index.image(child.digest));
    }
    await this.bytes(await manifestDescriptor(index), await index.rawManifest());
  }

  async image(image: Image): Promise<void> {
    const manifest = await image.manifest();
    const layers = await image.layers();
    for (const [i, layer] of layers.entries()) {
      this.#signal?.throwIfAborted();
      const descriptor = manifest.layers[i] as Descriptor;
      if (await this.#present(descriptor)) continue;
      await this.#stream(descriptor, await layer.compressed());
    }
    await this.bytes(manifest.config, await image.rawConfigFile());
    await this.bytes(await manifestDescriptor(image), await image.rawManifest());
  }

  async bytes(descriptor: Descriptor, bytes: Uint8Array): Promise<void> {
    if (await this.#present(descriptor)) return;
    const what = `blob "${descriptor.digest}"`;
    verifyBytes(bytes, descriptor.digest, what);
    await this.#stream(descriptor, Readable.from([bytes]));
  }

  async #present(descriptor: Descriptor): Promise<boolean> {
    try {
      return (await stat(blobPath(this.#dir, descriptor.digest))).size === descriptor.size;
    } catch {
      return false;
    }
  }

  async #stream(descriptor: Descriptor, content: ByteStream): Promise<void> {
    const path = blobPath(this.#dir, descriptor.digest);
    await mkdir(dirname(path), { recursive: true });
    const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.partial`);
    const what = `blob "${descriptor.digest}"`;
    try {
      await pipeline(
        verifyStream(content, { digest: descriptor.digest, sizeBytes: descriptor.size, what }),
        createWriteStream(tmp),
        { signal: this.#signal },
      );
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    this.#logger.debug(`wrote ${what} (${descriptor.size} bytes) to layout "${this.#dir}"`);
  }
}
