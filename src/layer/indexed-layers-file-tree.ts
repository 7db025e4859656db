import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { wrapError } from '../errors.js';
import type { Layer } from '../image/types.js';
import { silentLogger, type Logger } from '../log.js';
import type { FileTree, TreeFile } from '../pkgmgr/types.js';
import { ContentFile, LayerIndex } from './layer-index.js';
import { LayerMerge, streamedLayerSource, type LayerEntrySource } from './merge-layers.js';

export interface IndexedLayersFileTreeOptions {
  /**
   * Folder for the content files, one per layer, holding the bodies of its regular files
   * uncompressed; created when first needed. The caller removes it when the tree is done with.
   */
  readonly dir: string;
  readonly logger?: Logger | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** A {@link FileTree} that decompresses each of its layers once, however often it is read. */
export interface IndexedFileTree extends FileTree {
  /**
   * A tree over this tree's layers with `upper` (bottom first) on top. This tree's layers come
   * from its index, built by whichever tree is read first; `upper` is streamed on each read.
   */
  withUpperLayers(upper: readonly Layer[]): FileTree;
}

/**
 * Returns a {@link FileTree} over the merged file system of `layers` (bottom first) that
 * decompresses each layer once. The first `readFiles` streams every layer and records it: the
 * metadata of each tar entry in memory (a few hundred bytes an entry), the bodies of regular
 * files in a content file in `options.dir`. Every call, the first one included, then merges
 * the recorded entries as `readMergedFiles` merges the tars, with the same result, reading the
 * content of the selected files by offset from the content files.
 *
 * Calls made while the layers are being recorded wait for that one pass. When the pass fails
 * or is aborted, the calls waiting for it reject with its error and no partial record is kept:
 * the next call records the layers not recorded yet.
 *
 * Throws what `readMergedFiles` throws, and `INTERNAL` when a content file cannot be written.
 */
export function indexedLayersFileTree(
  layers: readonly Layer[],
  options: IndexedLayersFileTreeOptions,
): IndexedFileTree {
  const index = new LayersIndex(layers, options);
  const tree = (upper: readonly Layer[]): FileTree => ({
    readFiles: (select) => readIndexed(index, upper, select, options.signal),
  });
  return { ...tree([]), withUpperLayers: tree };
}

/** The records of a list of layers, made on first use, one pass at a time. */
class LayersIndex {
  readonly #layers: readonly Layer[];
  readonly #options: IndexedLayersFileTreeOptions;
  readonly #done: (LayerIndex | undefined)[];
  #pass: Promise<readonly LayerIndex[]> | undefined;

  constructor(layers: readonly Layer[], options: IndexedLayersFileTreeOptions) {
    this.#layers = layers;
    this.#options = options;
    this.#done = layers.map(() => undefined);
  }

  /** The record of every layer, bottom first. */
  get(): Promise<readonly LayerIndex[]> {
    this.#pass ??= this.#build().catch((err: unknown) => {
      this.#pass = undefined;
      throw err;
    });
    return this.#pass;
  }

  async #build(): Promise<readonly LayerIndex[]> {
    const { dir, signal } = this.#options;
    const logger = this.#options.logger ?? silentLogger;
    await mkdir(dir, { recursive: true }).catch((err: unknown) => {
      throw wrapError(`creating the layer index folder "${dir}"`, err);
    });
    for (const [i, layer] of this.#layers.entries()) {
      if (this.#done[i] !== undefined) continue;
      const path = join(dir, `layer-${i}-${randomUUID()}.content`);
      const built = await LayerIndex.build(layer, { path, signal });
      this.#done[i] = built;
      logger.debug(
        `indexed layer "${await layer.digest()}": ${built.entries.length} entries, ` +
          `${built.contentSize} bytes of file content`,
      );
    }
    return this.#done as LayerIndex[];
  }
}

async function readIndexed(
  index: LayersIndex,
  upper: readonly Layer[],
  select: (path: string) => boolean,
  signal: AbortSignal | undefined,
): Promise<Map<string, TreeFile>> {
  const indexes = await index.get();
  const files = indexes.map((i) => new ContentFile(i.path));
  const sources: LayerEntrySource[] = [
    ...indexes.map((i, n) => i.source(files[n] as ContentFile)),
    ...upper.map(streamedLayerSource),
  ];
  try {
    const merge = new LayerMerge(select);
    for (let i = sources.length - 1; i >= 0; i--) {
      signal?.throwIfAborted();
      await merge.addLayer(sources[i] as LayerEntrySource);
    }
    return merge.result;
  } finally {
    await Promise.all(files.map((f) => f.close()));
  }
}
