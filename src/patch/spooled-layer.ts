import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { DigestCounter, splitDigest, type ByteStream, type Layer } from '../image/index.js';
import { decompressStream } from '../layer/index.js';

export interface SpooledLayerOptions {
  /** Folder the stored bytes are kept in, one file per digest; created when first needed. */
  readonly dir: string;
}

/**
 * The layer with its stored bytes fetched from its source at most once: the first read copies
 * them, as they are read, into a file in `dir` named by digest, and later reads come from that
 * file. The file appears (by rename from a temporary name) only once the stream was read to its
 * end and its bytes matched the digest; a read that fails or stops early leaves no file, and the
 * next read goes to the source again, as do reads that start before the file exists. Every other
 * property (digest, diffId, size, media type, the source a push may mount from) is the layer's.
 * Wrapping does no I/O. Failing to write the file only means later reads use the source too.
 */
export function spooledLayer(layer: Layer, options: SpooledLayerOptions): Layer {
  let spooled: string | undefined;
  const compressed = async (): Promise<ByteStream> => {
    if (spooled !== undefined) return createReadStream(spooled);
    const digest = await layer.digest();
    const stream = await layer.compressed();
    return spool(stream, {
      digest,
      path: join(options.dir, digest.replace(':', '-')),
      onSpooled: (path) => (spooled = path),
    });
  };
  return new Proxy(layer, {
    get: (target, key) => {
      if (key === 'compressed') return compressed;
      if (key === 'uncompressed') return async () => decompressStream(await compressed());
      return bound(target, key);
    },
  });
}

interface SpoolOptions {
  readonly digest: string;
  readonly path: string;
  readonly onSpooled: (path: string) => void;
}

/** Passes `source` through, copying it to `options.path` when it is read fully and matches. */
async function* spool(source: ByteStream, options: SpoolOptions): ByteStream {
  const temp = `${options.path}.${randomUUID()}.partial`;
  const counter = new DigestCounter(splitDigest(options.digest).algorithm);
  let file = await openQuietly(temp);
  let complete = false;
  try {
    for await (const chunk of source) {
      counter.update(chunk);
      if (file !== undefined && !(await writeQuietly(file, chunk))) {
        await file.close().catch(() => undefined);
        file = undefined;
      }
      yield chunk;
    }
    if (file !== undefined && counter.digest() === options.digest) {
      await file.close();
      file = undefined;
      complete = await renameQuietly(temp, options.path);
      if (complete) options.onSpooled(options.path);
    }
  } finally {
    if (!complete) {
      await file?.close().catch(() => undefined);
      await rm(temp, { force: true });
    }
  }
}

async function openQuietly(path: string): Promise<FileHandle | undefined> {
  try {
    await mkdir(dirname(path), { recursive: true });
    return await open(path, 'wx');
  } catch {
    return undefined;
  }
}

async function renameQuietly(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch {
    return false;
  }
}

async function writeQuietly(file: FileHandle, chunk: Uint8Array): Promise<boolean> {
  try {
    await file.writeFile(chunk);
    return true;
  } catch {
    return false;
  }
}

function bound(target: object, key: string | symbol): unknown {
  const value: unknown = Reflect.get(target, key);
  return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
}
