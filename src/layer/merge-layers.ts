/**
 * The merge of layers into one file system, layer by layer from the top, applying whiteouts and
 * opaque directories as the image spec defines them:
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/layer.md#whiteouts
 *
 * The merge reads each layer through a {@link LayerEntrySource}, so that a layer streamed from
 * its tar and a layer read from its index give the same result.
 */
import type { Layer } from '../image/types.js';
import type { TreeFile } from '../pkgmgr/types.js';
import { forEachTarEntry, type TarEntry } from './tar-entries.js';

const whiteoutPrefix = '.wh.';
const opaqueMarker = '.wh..wh..opq';

/** Reads the body of the entry it was passed with; callable once, before the callback settles. */
export type ReadContent = () => Promise<Uint8Array>;

/** One layer's tar entries, in tar order, each with its body on demand. */
export interface LayerEntrySource {
  /**
   * Calls `onEntry` for each entry in tar order, the next one only after it settles. May be
   * called more than once: the merge walks a layer again for hard-link targets it skipped.
   */
  forEachEntry(
    onEntry: (entry: TarEntry, content: ReadContent) => Promise<void> | void,
  ): Promise<void>;
}

/** A layer read by streaming its tar: each walk decompresses the layer again. */
export function streamedLayerSource(layer: Layer): LayerEntrySource {
  return {
    forEachEntry: async (onEntry) =>
      forEachTarEntry(await layer.uncompressed(), (entry, body) =>
        onEntry(entry, () => readAll(body)),
      ),
  };
}

interface Captured {
  readonly entry: TarEntry;
  readonly content?: Uint8Array;
}

/**
 * What the layers merged so far (all higher than the next one) hide and provide. Feed it the
 * layers from the top down with {@link LayerMerge.addLayer}; `result` holds the topmost version
 * of each selected path.
 */
export class LayerMerge {
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

  /** Merges the next lower layer. */
  async addLayer(source: LayerEntrySource): Promise<void> {
    const layer: LayerState = {
      whiteouts: new Set(),
      opaques: new Set(),
      nonDirectories: new Set(),
      captured: new Map(),
      recorded: new Set(),
      unresolved: new Map(),
    };
    await source.forEachEntry((entry, content) => this.#addEntry(layer, entry, content));
    await this.#rescanForTargets(source, layer.unresolved, layer.nonDirectories);
    for (const [target, links] of layer.unresolved) this.#addPending(target, links);
    addAll(this.#whiteouts, layer.whiteouts);
    addAll(this.#opaques, layer.opaques);
    addAll(this.#nonDirectories, layer.nonDirectories);
  }

  async #addEntry(layer: LayerState, entry: TarEntry, content: ReadContent): Promise<void> {
    const { dir, name } = splitPath(entry.path);
    if (name.startsWith(whiteoutPrefix)) {
      if (name === opaqueMarker) layer.opaques.add(dir);
      else if (!name.startsWith(`${whiteoutPrefix}${whiteoutPrefix}`)) {
        layer.whiteouts.add(joinPath(dir, name.slice(whiteoutPrefix.length)));
      }
      return;
    }
    if (entry.path === '') return;
    // A hard link keeps its target's content even when a higher layer deletes the target.
    const isTarget = this.#pendingTargets.has(entry.path);
    const hidden = this.#isHidden(entry.path);
    if (hidden && !isTarget) return;
    if (entry.type !== 'directory' && !hidden) layer.nonDirectories.add(entry.path);

    const selected =
      !hidden && this.#select(entry.path) && !this.#shadowed(entry.path, layer.recorded);
    if (!selected && !isTarget) return;

    const bytes = entry.type === 'file' ? await content() : undefined;
    layer.captured.set(entry.path, { entry, ...(bytes ? { content: bytes } : {}) });
    if (selected) {
      layer.recorded.add(entry.path);
      this.#record(entry, bytes, layer);
    }
    if (isTarget && entry.type !== 'hardlink') this.#resolveTarget(entry, bytes);
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

  #record(entry: TarEntry, content: Uint8Array | undefined, layer: LayerState): void {
    this.result.set(entry.path, toTreeFile(entry, content));
    if (entry.type !== 'hardlink' || entry.target === undefined) return;

    const target = layer.captured.get(entry.target);
    if (target !== undefined && target.entry.type !== 'hardlink') {
      this.result.set(entry.path, linkedFile(entry, target.entry, target.content));
      return;
    }
    const links = layer.unresolved.get(entry.target) ?? [];
    layer.unresolved.set(entry.target, [...links, entry.path]);
  }

  #resolveTarget(target: TarEntry, content: Uint8Array | undefined): void {
    for (const linkPath of this.#pendingTargets.get(target.path) ?? []) {
      const link = this.result.get(linkPath);
      if (link !== undefined) this.result.set(linkPath, linkedFile(link, target, content));
    }
    this.#pendingTargets.delete(target.path);
  }

  /**
   * Walks the layer again for unselected targets of its own hard links: a second stream of a
   * streamed layer, a look-up in memory for an indexed one.
   */
  async #rescanForTargets(
    source: LayerEntrySource,
    unresolved: Map<string, string[]>,
    layerPaths: ReadonlySet<string>,
  ): Promise<void> {
    const inLayer = [...unresolved.keys()].filter((t) => layerPaths.has(t));
    if (inLayer.length === 0) return;
    const wanted = new Set(inLayer);
    await source.forEachEntry(async (entry, content) => {
      if (!wanted.has(entry.path) || entry.type === 'hardlink') return;
      const bytes = entry.type === 'file' ? await content() : undefined;
      for (const linkPath of unresolved.get(entry.path) ?? []) {
        const link = this.result.get(linkPath);
        if (link !== undefined) this.result.set(linkPath, linkedFile(link, entry, bytes));
      }
      unresolved.delete(entry.path);
    });
  }

  #addPending(target: string, links: readonly string[]): void {
    this.#pendingTargets.set(target, [...(this.#pendingTargets.get(target) ?? []), ...links]);
  }
}

/** What one layer adds while it is merged. */
interface LayerState {
  readonly whiteouts: Set<string>;
  readonly opaques: Set<string>;
  readonly nonDirectories: Set<string>;
  readonly captured: Map<string, Captured>;
  /** Paths this layer put in the result. */
  readonly recorded: Set<string>;
  /** Hard links of this layer whose target was not captured, by target. */
  readonly unresolved: Map<string, string[]>;
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
