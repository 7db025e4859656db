import type { ConfigFile, HistoryEntry } from '../image/types.js';
import type { RequestedUpdate, UpdatedPackage } from '../pkgmgr/types.js';

/** The `comment` of the history entry of every layer copa writes: how a patch layer is found. */
export const patchLayerComment = 'copa patch layer';

const prefix = 'copa patch:';

/**
 * Returns the history entry of a patch layer. `created_by` names copa and each updated package
 * as `name=version`, which is also how a later run finds what the layer holds.
 */
export function patchHistoryEntry(
  updated: readonly UpdatedPackage[],
  created: string,
): HistoryEntry {
  const names = [...updated]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((u) => `${u.name}=${u.toVersion}`);
  return {
    created,
    created_by: `${prefix} ${names.join(' ')}`.trimEnd(),
    comment: patchLayerComment,
  };
}

/** A previous copa patch layer found on top of an image. */
export interface PreviousPatch {
  /** Index of the patch layer: always the last layer. */
  readonly layerIndex: number;
  /** The packages it updated, at the versions it installed. */
  readonly packages: readonly RequestedUpdate[];
}

/**
 * Finds copa's patch layer on top of an image: the last history entry that makes a layer has
 * copa's comment and the layer and history counts agree. Returns `undefined` for an image copa
 * did not patch.
 */
export function findPreviousPatch(config: ConfigFile): PreviousPatch | undefined {
  const history = config.history ?? [];
  const layered = history.filter((h) => h.empty_layer !== true);
  const last = layered[layered.length - 1];
  const layerCount = config.rootfs.diff_ids.length;
  if (last === undefined || last.comment !== patchLayerComment || layered.length !== layerCount) {
    return undefined;
  }
  const packages = (last.created_by ?? '')
    .slice(prefix.length)
    .trim()
    .split(/\s+/)
    .filter((word) => word.includes('='))
    .map((word) => {
      const at = word.indexOf('=');
      return { name: word.slice(0, at), fixedVersion: word.slice(at + 1) };
    });
  return { layerIndex: layerCount - 1, packages };
}

/**
 * Merges the packages of a previous patch into a new request: the new layer replaces the old
 * one, so it must carry the old updates too. A package in both keeps the higher requirement
 * (the caller's comparison).
 */
export function mergeRequested(
  previous: readonly RequestedUpdate[],
  next: readonly RequestedUpdate[],
  compare: (a: string, b: string) => number,
): RequestedUpdate[] {
  const merged = new Map<string, RequestedUpdate>();
  for (const u of [...previous, ...next]) {
    const seen = merged.get(u.name);
    if (seen === undefined || compare(u.fixedVersion, seen.fixedVersion) > 0) merged.set(u.name, u);
  }
  return [...merged.values()];
}
