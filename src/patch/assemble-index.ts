import {
  replaceManifests,
  type Descriptor,
  type Image,
  type ImageIndex,
  type IndexManifest,
} from '../image/index.js';
import { attestedDigest, isAttestation } from './plan-platforms.js';

/** Annotation naming when copa patched an index or image (RFC 3339). */
export const patchedAnnotation = 'sh.copa.patched';
/** Annotation naming the source the result was patched from (`repository@digest`). */
export const patchedFromAnnotation = 'sh.copa.patched.from';
const createdAnnotation = 'org.opencontainers.image.created';

export interface IndexChangesOptions {
  /** Digests of the source manifests that were patched. */
  readonly replaced: ReadonlySet<string>;
  /** When the patch was made, RFC 3339. */
  readonly created: string;
  /** The source, `repository@digest`. */
  readonly from: string;
}

/** How the result index differs from the source index, beyond the new manifests. */
export interface IndexChanges {
  /** Merged over the index's own annotations. */
  readonly annotations: Readonly<Record<string, string>>;
  /** The descriptor annotations of each replaced entry, by its old digest. */
  readonly entryAnnotations: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Attestation manifests to leave out: they describe images that were replaced. */
  readonly droppedAttestations: ReadonlySet<string>;
}

/**
 * Works out the changes of the result index: `org.opencontainers.image.created` and copa's
 * annotations on the index; on each replaced entry its old annotations plus the created time;
 * the attestation manifests of replaced images left out (they describe bytes no longer there),
 * those of kept images kept.
 */
export function indexChanges(source: IndexManifest, options: IndexChangesOptions): IndexChanges {
  const entryAnnotations = new Map<string, Readonly<Record<string, string>>>();
  const droppedAttestations = new Set<string>();
  for (const d of source.manifests) {
    const subject = isAttestation(d) ? attestedDigest(d) : undefined;
    if (subject !== undefined && options.replaced.has(subject)) droppedAttestations.add(d.digest);
    if (options.replaced.has(d.digest)) {
      entryAnnotations.set(d.digest, {
        ...d.annotations,
        [createdAnnotation]: options.created,
        [patchedAnnotation]: options.created,
      });
    }
  }
  const annotations = {
    [createdAnnotation]: options.created,
    [patchedAnnotation]: options.created,
    [patchedFromAnnotation]: options.from,
  };
  return { annotations, entryAnnotations, droppedAttestations };
}

/**
 * Returns the result index: `source` with the patched images in place of the ones they
 * replace (same media type and order), changed as {@link indexChanges} says.
 */
export async function assembleIndex(
  source: ImageIndex,
  patched: ReadonlyMap<string, Image>,
  options: { created: string; from: string },
): Promise<{ index: ImageIndex; droppedAttestations: readonly string[] }> {
  const changes = indexChanges(await source.indexManifest(), {
    replaced: new Set(patched.keys()),
    ...options,
  });
  const index = replaceManifests(source, patched, {
    annotations: changes.annotations,
    entryAnnotations: changes.entryAnnotations,
    dropDigests: changes.droppedAttestations,
  });
  return { index, droppedAttestations: [...changes.droppedAttestations] };
}

/** The descriptor entries of an index that are kept unchanged (for pushing them across). */
export function keptEntries(index: IndexManifest, changed: ReadonlySet<string>): Descriptor[] {
  return index.manifests.filter((d) => !changed.has(d.digest));
}

/**
 * Returns the time stamp of a patch: `SOURCE_DATE_EPOCH` when set (reproducible results: the
 * same run gives the same digests), else now.
 */
export function patchTime(env: NodeJS.ProcessEnv = process.env): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^[0-9]+$/.test(epoch)) {
    return new Date(Number(epoch) * 1000).toISOString().replace(/\.000Z$/, 'Z');
  }
  return new Date().toISOString().replace(/\.[0-9]{3}Z$/, 'Z');
}
