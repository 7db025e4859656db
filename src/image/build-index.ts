/**
 * Rebuilding an index with some of its manifests replaced, keeping everything else as it was.
 */
import { CopaError } from '../errors.js';
import { sha256Digest } from './digest.js';
import { indexFromParts, manifestDescriptor } from './memory-image.js';
import { parseIndexManifest } from './parse-manifest.js';
import {
  MediaType,
  type Descriptor,
  type Image,
  type ImageIndex,
  type IndexManifest,
} from './types.js';

export interface BuildIndexOptions {
  /** Merged over the index's own annotations (OCI only; a Docker manifest list has none). */
  annotations?: Readonly<Record<string, string>>;
  /** Digests of entries to leave out (platforms that failed, say). */
  dropDigests?: ReadonlySet<string>;
}

export interface BuiltIndex {
  rawManifest: Uint8Array;
  digest: string;
  manifest: IndexManifest;
}

/**
 * Returns a new index from the exact bytes of `source`: the same entries in the same order,
 * entries whose digest is in `replacements` pointing at the new descriptor, the ones in
 * `dropDigests` left out. The index's media type and unknown fields are kept. A replacement
 * keeps the old entry's platform and annotations unless it brings its own.
 *
 * Throws a `CopaError` with code `MANIFEST_INVALID` when a replacement names no entry.
 */
export function buildIndex(
  source: Uint8Array,
  replacements: ReadonlyMap<string, { descriptor: Descriptor }>,
  options: BuildIndexOptions = {},
): BuiltIndex {
  const what = `index "${sha256Digest(source)}"`;
  parseIndexManifest(source, what);
  const json = JSON.parse(Buffer.from(source).toString('utf8')) as Record<string, unknown>;
  const entries = json['manifests'] as Descriptor[];
  for (const digest of replacements.keys()) {
    if (!entries.some((e) => e.digest === digest)) {
      throw new CopaError('MANIFEST_INVALID', `replacing "${digest}" in ${what}: no such entry`);
    }
  }

  const manifests = entries
    .filter((entry) => !options.dropDigests?.has(entry.digest))
    .map((entry) => replaceEntry(entry, replacements.get(entry.digest)?.descriptor));
  const docker = json['mediaType'] === MediaType.DockerManifestList;
  const annotations =
    options.annotations === undefined || docker
      ? json['annotations']
      : { ...(json['annotations'] as Record<string, string> | undefined), ...options.annotations };
  const rebuilt = { ...json, manifests, ...(annotations === undefined ? {} : { annotations }) };
  const rawManifest = Buffer.from(JSON.stringify(rebuilt));
  return {
    rawManifest,
    digest: sha256Digest(rawManifest),
    manifest: parseIndexManifest(rawManifest, what),
  };
}

function replaceEntry(old: Descriptor, replacement: Descriptor | undefined): Descriptor {
  if (replacement === undefined) return old;
  const platform = replacement.platform ?? old.platform;
  const annotations = replacement.annotations ?? old.annotations;
  return {
    ...replacement,
    ...(platform === undefined ? {} : { platform }),
    ...(annotations === undefined ? {} : { annotations }),
  };
}

/**
 * Returns `base` with the manifests named by digest replaced by new images or indexes: a lazy
 * index whose bytes come from {@link buildIndex} and whose children are the replacements, else
 * the base's own. `annotations` maps an old digest to the new entry's descriptor annotations.
 */
export function replaceManifests(
  base: ImageIndex,
  replacements: ReadonlyMap<string, Image | ImageIndex>,
  options: BuildIndexOptions & {
    entryAnnotations?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  } = {},
): ImageIndex {
  return indexFromParts(async () => {
    const descriptors = new Map<string, { descriptor: Descriptor }>();
    const children = new Map<string, Image | ImageIndex>();
    for (const [oldDigest, replacement] of replacements) {
      const descriptor = await manifestDescriptor(replacement);
      const annotations = options.entryAnnotations?.get(oldDigest);
      descriptors.set(oldDigest, {
        descriptor: annotations === undefined ? descriptor : { ...descriptor, annotations },
      });
      children.set(descriptor.digest, replacement);
    }
    const built = buildIndex(await base.rawManifest(), descriptors, options);
    return { rawManifest: built.rawManifest, children, fallback: base };
  });
}
