/**
 * A layer decompressed once: the metadata of every tar entry, in order, kept in memory, and the
 * bodies of its regular files appended to one content file, read back by offset.
 */
import { open, rm, type FileHandle } from 'node:fs/promises';

import { CopaError, wrapError } from '../errors.js';
import type { Layer } from '../image/types.js';
import type { LayerEntrySource } from './merge-layers.js';
import { SpoolFile } from './spool-file.js';
import { forEachTarEntry, type TarEntry } from './tar-entries.js';

export interface BuildLayerIndexOptions {
  /** The content file to create (a file already there is truncated). */
  readonly path: string;
  readonly signal?: AbortSignal | undefined;
}

/** The entries of one layer and where the content of its regular files is. */
export class LayerIndex {
  /** The content file: the bodies of the layer's regular files, in tar order. */
  readonly path: string;
  /** Every entry of the layer's tar, in order, whiteouts included. */
  readonly entries: readonly TarEntry[];
  /** Offset of each entry's body in the content file; bodies of other entries are not kept. */
  readonly #offsets: readonly number[];
  readonly #lengths: readonly number[];

  private constructor(path: string, entries: TarEntry[], offsets: number[], lengths: number[]) {
    this.path = path;
    this.entries = entries;
    this.#offsets = offsets;
    this.#lengths = lengths;
  }

  /** Total size of the kept bodies, in bytes. */
  get contentSize(): number {
    return this.#lengths.reduce((sum, n) => sum + n, 0);
  }

  /**
   * Streams the layer once and records it: its entries in memory, the bodies of its regular
   * files in the content file at `options.path`. On failure the file is removed and the error
   * thrown: a `CopaError` from the layer (`DIGEST_MISMATCH`, `LAYER_INVALID`), the signal's
   * reason when aborted, `INTERNAL` when the content file cannot be written.
   */
  static async build(layer: Layer, options: BuildLayerIndexOptions): Promise<LayerIndex> {
    const { path, signal } = options;
    signal?.throwIfAborted();
    let writer: SpoolFile | undefined;
    const entries: TarEntry[] = [];
    const offsets: number[] = [];
    const lengths: number[] = [];
    try {
      const out = (writer = await SpoolFile.create(path));
      await forEachOwnEntry(await layer.uncompressed(), async (entry, body) => {
        signal?.throwIfAborted();
        const offset = out.size;
        if (entry.type === 'file') {
          for await (const chunk of body) {
            signal?.throwIfAborted();
            await out.append(chunk);
          }
        }
        entries.push(entry);
        offsets.push(offset);
        lengths.push(out.size - offset);
      });
      await out.close();
    } catch (err) {
      await writer?.abandon();
      await rm(path, { force: true });
      if (err instanceof CopaError || signal?.aborted) throw err;
      throw wrapError(`indexing layer "${await layer.digest()}"`, err);
    }
    return new LayerIndex(path, entries, offsets, lengths);
  }

  /** The indexed layer as a merge reads it, its content read from `file`. */
  source(file: ContentFile): LayerEntrySource {
    return {
      forEachEntry: async (onEntry) => {
        for (let i = 0; i < this.entries.length; i++) {
          const offset = this.#offsets[i] as number;
          const length = this.#lengths[i] as number;
          await onEntry(this.entries[i] as TarEntry, () => file.read(offset, length));
        }
      },
    };
  }
}

/**
 * Calls `onEntry` for each tar entry like `forEachTarEntry`, but lets the errors `onEntry`
 * throws (an abort, a failed write) through as they are, not as an invalid layer.
 */
async function forEachOwnEntry(
  source: Parameters<typeof forEachTarEntry>[0],
  onEntry: Parameters<typeof forEachTarEntry>[1],
): Promise<void> {
  let own: { readonly error: unknown } | undefined;
  try {
    await forEachTarEntry(source, async (entry, body) => {
      try {
        await onEntry(entry, body);
      } catch (error) {
        own = { error };
        throw error;
      }
    });
  } catch (err) {
    throw own === undefined ? err : own.error;
  }
}

/** A content file opened for positional reads when first read; close it after the reads. */
export class ContentFile {
  readonly #path: string;
  #handle: Promise<FileHandle> | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  /** Reads `length` bytes at `offset`. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const bytes = Buffer.allocUnsafe(length);
    if (length === 0) return bytes;
    this.#handle ??= open(this.#path, 'r');
    const handle = await this.#handle;
    for (let done = 0; done < length;) {
      const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
      if (bytesRead === 0) {
        throw new CopaError('INTERNAL', `reading "${this.#path}": the layer index ends early`);
      }
      done += bytesRead;
    }
    return bytes;
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle !== undefined) await (await handle.catch(() => undefined))?.close();
  }
}
