/**
 * Reads files of an image's merged file system straight from its layer tars, top layer first,
 * applying whiteouts and opaque directories as the image spec defines them:
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/layer.md#whiteouts
 */
import type { Layer } from '../image/types.js';
import { silentLogger, type Logger } from '../log.js';
import type { FileTree, TreeFile } from '../pkgmgr/types.js';
import { forEachTarEntry, type TarEntry } from './tar-entries.js';

const whiteoutPrefix = '.wh.';
const opaqueMarker = '.wh..wh..opq';

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
  const merge = new MergeState(select);
  const logger = options.logger ?? silentLogger;
  for (let index = layers.length - 1; index >= 0; index--) {
    options.signal?.throwIfAborted();
    const layer = layers[index] as Layer;
    await merge.readLayer(layer);
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

interface Captured {
  readonly entry: TarEntry;
  readonly content?: Uint8Array;
}

/** What the layers read so far (all higher than the next one) hide and provide. */
class MergeState {
  readonly result = new Map<string, TreeFile>();
  readonly #select: (path: string) => boolean;
  readonly #whiteouts = new Set<string>();
  readonly #opaques = new Set<string>();
  readonly #nonDirectories = new Set<string>();
  /** Hard-link targets still to find, each with the links waiting for its content. */
  readonly #pendingTargets = new Map<string, string[]>();

  constructor(select: (path: string) => boolean) {
    this.#select = select;
  }

  async readLayer(layer: Layer): Promise<void> {
    const layerWhiteouts = new Set<string>();
    const layerOpaques = new Set<string>();
    const layerNonDirectories = new Set<string>();
    const captured = new Map<string, Captured>();
    const recorded = new Set<string>();
    const unresolved = new Map<string, string[]>();

    await forEachTarEntry(await layer.uncompressed(), async (entry, body) => {
      const { dir, name } = splitPath(entry.path);
      if (name.startsWith(whiteoutPrefix)) {
        if (name === opaqueMarker) layerOpaques.add(dir);
        else if (!name.startsWith(`${whiteoutPrefix}${whiteoutPrefix}`)) {
          layerWhiteouts.add(joinPath(dir, name.slice(whiteoutPrefix.length)));
        }
        return;
      }
      if (entry.path === '') return;
      // A hard link keeps its target's content even when a higher layer deletes the target.
      const isTarget = this.#pendingTargets.has(entry.path);
      const hidden = this.#isHidden(entry.path);
      if (hidden && !isTarget) return;
      if (entry.type !== 'directory' && !hidden) layerNonDirectories.add(entry.path);

      const selected = !hidden && this.#select(entry.path) && !this.#shadowed(entry.path, recorded);
      if (!selected && !isTarget) return;

      const content = entry.type === 'file' ? await readAll(body) : undefined;
      captured.set(entry.path, { entry, ...(content ? { content } : {}) });
      if (selected) {
        recorded.add(entry.path);
        this.#record(entry, content, captured, unresolved);
      }
      if (isTarget && entry.type !== 'hardlink') this.#resolveTarget(entry, content);
    });

    await this.#rescanForTargets(layer, unresolved, layerNonDirectories);
    for (const [target, links] of unresolved) this.#addPending(target, links);
    addAll(this.#whiteouts, layerWhiteouts);
    addAll(this.#opaques, layerOpaques);
    addAll(this.#nonDirectories, layerNonDirectories);
  }

  /** A path already taken from a higher layer (a later entry of the same layer replaces it). */
  #shadowed(path: string, recorded: ReadonlySet<string>): boolean {
    return this.result.has(path) && !recorded.has(path);
  }

  #isHidden(path: string): boolean {
    if (this.#whiteouts.has(path) || this.#opaques.has('')) return true;
    for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
      const ancestor = path.slice(0, i);
      if (
        this.#whiteouts.has(ancestor) ||
        this.#opaques.has(ancestor) ||
        this.#nonDirectories.has(ancestor)
      ) {
        return true;
      }
    }
    return false;
  }

  #record(
    entry: TarEntry,
    content: Uint8Array | undefined,
    captured: ReadonlyMap<string, Captured>,
    unresolved: Map<string, string[]>,
  ): void {
    this.result.set(entry.path, toTreeFile(entry, content));
    if (entry.type !== 'hardlink' || entry.target === undefined) return;

    const target = captured.get(entry.target);
    if (target !== undefined && target.entry.type !== 'hardlink') {
      this.result.set(entry.path, linkedFile(entry, target.entry, target.content));
      return;
    }
    const links = unresolved.get(entry.target) ?? [];
    unresolved.set(entry.target, [...links, entry.path]);
  }

  #resolveTarget(target: TarEntry, content: Uint8Array | undefined): void {
    for (const linkPath of this.#pendingTargets.get(target.path) ?? []) {
      const link = this.result.get(linkPath);
      if (link !== undefined) this.result.set(linkPath, linkedFile(link, target, content));
    }
    this.#pendingTargets.delete(target.path);
  }

  /** Reads again the layer that holds unselected targets of its own hard links. */
  async #rescanForTargets(
    layer: Layer,
    unresolved: Map<string, string[]>,
    layerPaths: ReadonlySet<string>,
  ): Promise<void> {
    const inLayer = [...unresolved.keys()].filter((t) => layerPaths.has(t));
    if (inLayer.length === 0) return;
    const wanted = new Set(inLayer);
    await forEachTarEntry(await layer.uncompressed(), async (entry, body) => {
      if (!wanted.has(entry.path) || entry.type === 'hardlink') return;
      const content = entry.type === 'file' ? await readAll(body) : undefined;
      for (const linkPath of unresolved.get(entry.path) ?? []) {
        const link = this.result.get(linkPath);
        if (link !== undefined) this.result.set(linkPath, linkedFile(link, entry, content));
      }
      unresolved.delete(entry.path);
    });
  }

  #addPending(target: string, links: readonly string[]): void {
    this.#pendingTargets.set(target, [...(this.#pendingTargets.get(target) ?? []), ...links]);
  }
}

function toTreeFile(entry: TarEntry, content: Uint8Array | undefined): TreeFile {
  return {
    path: entry.path,
    type: entry.type,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    ...(entry.target === undefined ? {} : { target: entry.target }),
    ...(content === undefined ? {} : { content }),
  };
}

function linkedFile(
  link: Pick<TreeFile, 'path' | 'target'>,
  target: TarEntry,
  content: Uint8Array | undefined,
): TreeFile {
  return {
    path: link.path,
    type: 'hardlink',
    mode: target.mode,
    uid: target.uid,
    gid: target.gid,
    target: target.path,
    ...(content === undefined ? {} : { content }),
  };
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function splitPath(path: string): { dir: string; name: string } {
  const slash = path.lastIndexOf('/');
  return { dir: path.slice(0, Math.max(slash, 0)), name: path.slice(slash + 1) };
}

function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

function addAll(into: Set<string>, from: Iterable<string>): void {
  for (const item of from) into.add(item);
}
