import { CopaError } from '../errors.js';
import type { Platform } from '../image/types.js';
import {
  formatReference,
  parseReference,
  withTag,
  withoutVersion,
  type Reference,
} from '../reference/index.js';

/**
 * Returns the reference the patched image is written to, as Copa derives it: a bare `tag` goes
 * on the source repository; a `tag` with `:` or `@` is a full reference and must carry a tag;
 * without `tag`, `<source tag>-<tagSuffix>` (suffix `patched` when empty).
 *
 * Throws a `CopaError` with code `USAGE` when the source has no tag and none is given, or a full
 * reference has no tag; `REFERENCE_INVALID` when the tag is malformed.
 */
export function resolveTargetReference(
  source: Reference,
  options: { tag?: string | undefined; tagSuffix?: string | undefined },
): Reference {
  const { tag } = options;
  if (tag !== undefined && tag !== '') {
    if (!tag.includes(':') && !tag.includes('@')) return withTag(withoutVersion(source), tag);
    const full = parseReference(tag, { defaultTag: false });
    if (full.tag === undefined) {
      throw new CopaError('USAGE', `resolving tag "${tag}": a full reference needs a tag`, {
        hint: 'Write the reference with a tag, such as "registry.example/app:1.2-patched".',
      });
    }
    return withoutDigest(full);
  }
  return withTag(withoutVersion(source), patchedTagOf(source, options.tagSuffix));
}

/** Returns `<source tag>-<suffix>`; throws `USAGE` when the source has no tag. */
export function patchedTagOf(source: Reference, tagSuffix: string | undefined): string {
  if (source.tag === undefined) {
    throw new CopaError(
      'USAGE',
      `naming the patched image of "${formatReference(source)}": no tag`,
      {
        hint: 'The image is named by digest only: give the patched tag with --tag.',
      },
    );
  }
  return `${source.tag}-${tagSuffix || 'patched'}`;
}

/**
 * Returns the tag of one platform of a multi-platform result: `<tag>-<arch>[-<variant>]`, the
 * arm64 variant `v8` left out (`1.2-patched-arm-v7`, `1.2-patched-arm64`).
 */
export function platformTag(tag: string, platform: Platform): string {
  const variant =
    platform.architecture === 'arm64' && platform.variant === 'v8' ? undefined : platform.variant;
  return [tag, platform.architecture, variant].filter(Boolean).join('-');
}

function withoutDigest(ref: Reference): Reference {
  const repo = withoutVersion(ref);
  return ref.tag === undefined ? repo : { ...repo, tag: ref.tag };
}
