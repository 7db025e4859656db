/**
 * Reads files of an image's merged file system straight from its layer tars, top layer first,
 * applying whiteouts and opaque directories as the image spec defines them:
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/layer.md#whiteouts
 */
import type { Layer } from '../image/types.js';
import { silentLogger, type Logger } from '../log.js';
import type { FileTree, TreeFile } from '../pkgmgr/types.js';
import { LayerMerge, streamedLayerSource } from './merge-layers.js';
import { forEachTarEntry } from './tar-entries.js';

export interface ReadMergedFilesOptions {
  logger?: Logger;
  signal?: AbortSignal;
}

/**
 * Returns the topmost version of each path `select` accepts in the merged file system of
 * `layers` (bottom first, as an image lists them). Each layer is streamed once, from the top
 * layer down; only the content of selected regular files is held in memory, never a layer.
 *
 * A path is hidden from lower layers by a whiteout (`dir/.wh.name`) of itself or an ancestor in
 * a higher layer, by an opaque marker (`dir/.wh..wh..opq`) of an ancestor directory, or by a
 * higher non-directory at an ancestor path. Whiteouts apply only to lower layers, never to their
 * own. Symbolic links are returned as links, not followed. A hard link is returned with type
 * `hardlink`, its target, and the target's content and mode; a target earlier in the same layer
 * that was not selected is read by streaming that layer a second time.
 *
 * Throws a `CopaError` with code `LAYER_INVALID` when a layer is not a tar.
 */
export async function readMergedFiles(
  layers: readonly Layer[],
  select: (path: string) => boolean,
  options: ReadMergedFilesOptions = {},
): Promise<Map<string, TreeFile>> {
  const merge = new LayerMerge(select);
  const logger = options.logger ?? silentLogger;
  for (let index = layers.length - 1; index >= 0; index--) {
    options.signal?.throwIfAborted();
    const layer = layers[index] as Layer;
    await merge.addLayer(streamedLayerSource(layer));
    logger.debug(
      `read layer "${await layer.digest()}": ${merge.result.size} files selected so far`,
    );
  }
  return merge.result;
}

/** Returns a {@link FileTree} over the merged file system of the layers (bottom first). */
export function layersFileTree(
  layers: readonly Layer[],
  options: ReadMergedFilesOptions = {},
): FileTree {
  return { readFiles: (select) => readMergedFiles(layers, select, options) };
}

/** Returns the normalised paths of one layer's tar entries, in tar order, whiteouts included. */
export async function listLayerPaths(layer: Layer): Promise<string[]> {
  const paths: string[] = [];
  await forEachTarEntry(await layer.uncompressed(), (entry) => {
    paths.push(entry.path);
  });
  return paths;
}
