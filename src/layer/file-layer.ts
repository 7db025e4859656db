import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

import { digestStream, verifyStream } from '../image/digest.js';
import type { ByteStream, Layer } from '../image/types.js';
import { decompressStream } from './compression.js';

/** Read size of the blob: a few large reads rather than many 64 KiB ones. */
const READ_BYTES = 1 << 20;

const readBlob = (path: string) => createReadStream(path, { highWaterMark: READ_BYTES });

/** A layer whose blob is a file on disk. */
export interface FileLayer extends Layer {
  readonly path: string;
}

export interface FileLayerOptions {
  mediaType: string;
  /** Digest of the file; computed on first use when absent. */
  digest?: string;
  /** Digest of the uncompressed tar; computed on first use when absent. */
  diffId?: string;
  sizeBytes?: number;
}

/**
 * Returns a layer backed by a blob file. Constructing it does no I/O; a missing digest, diffId
 * or size is computed once, on first use, by reading the file. When the digest is given,
 * `compressed()` verifies the file against it while it is read (`DIGEST_MISMATCH`).
 */
export function fileLayer(path: string, options: FileLayerOptions): FileLayer {
  let digest: Promise<{ digest: string; sizeBytes: number }> | undefined;
  let diffId: Promise<string> | undefined;
  const known = options.digest;

  const digestOnce = () =>
    (digest ??=
      known !== undefined && options.sizeBytes !== undefined
        ? Promise.resolve({ digest: known, sizeBytes: options.sizeBytes })
        : digestOrStat());
  const digestOrStat = async () =>
    known !== undefined
      ? { digest: known, sizeBytes: (await stat(path)).size }
      : digestStream(readBlob(path));

  const compressed = async (): Promise<ByteStream> => {
    const stream = readBlob(path);
    if (known === undefined) return stream;
    return verifyStream(stream, {
      digest: known,
      sizeBytes: options.sizeBytes,
      what: `layer "${path}"`,
    });
  };

  return {
    path,
    digest: async () => (await digestOnce()).digest,
    size: async () => (await digestOnce()).sizeBytes,
    diffId: () =>
      (diffId ??=
        options.diffId !== undefined
          ? Promise.resolve(options.diffId)
          : digestStream(decompressStream(readBlob(path))).then((r) => r.digest)),
    mediaType: async () => options.mediaType,
    compressed,
    uncompressed: async () => decompressStream(await compressed()),
  };
}
