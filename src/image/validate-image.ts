/**
 * Full checks of an image or index against its bytes: what tests and `--debug` runs use to prove
 * that a result is self-consistent before anything is tagged.
 */
import { CopaError } from '../errors.js';
import { decompressStream } from '../layer/index.js';
import { DigestCounter, sha256Digest } from './digest.js';
import { isImageIndex } from './memory-image.js';
import { isIndexMediaType, type Image, type ImageIndex } from './types.js';

/**
 * Checks an image: the manifest digest against its bytes, the config digest and size, each
 * layer's digest and size (by streaming it) and diffId (by decompressing it) against the
 * manifest and `rootfs.diff_ids`. Reads every layer once.
 *
 * Throws a `CopaError` with code `DIGEST_MISMATCH` or `MANIFEST_INVALID` at the first problem.
 */
export async function validateImage(image: Image): Promise<void> {
  const raw = await image.rawManifest();
  const digest = await image.digest();
  const what = `image "${digest}"`;
  if (sha256Digest(raw) !== digest) mismatch(what, 'manifest digest differs from its bytes');

  const manifest = await image.manifest();
  const rawConfig = await image.rawConfigFile();
  if (
    sha256Digest(rawConfig) !== manifest.config.digest ||
    rawConfig.byteLength !== manifest.config.size
  ) {
    mismatch(what, 'config differs from its descriptor');
  }
  const config = await image.configFile();
  const layers = await image.layers();
  if (layers.length !== manifest.layers.length || layers.length !== config.rootfs.diff_ids.length) {
    throw new CopaError(
      'MANIFEST_INVALID',
      `validating ${what}: ${manifest.layers.length} layer descriptors, ${layers.length} layers, ` +
        `${config.rootfs.diff_ids.length} diff_ids`,
    );
  }
  for (const [i, layer] of layers.entries()) {
    const descriptor = manifest.layers[i]!;
    const stored = new DigestCounter();
    const tar = new DigestCounter();
    const counted = async function* () {
      for await (const chunk of await layer.compressed()) {
        stored.update(chunk);
        yield chunk;
      }
    };
    for await (const chunk of decompressStream(counted())) tar.update(chunk);
    if (stored.digest() !== descriptor.digest || stored.sizeBytes !== descriptor.size) {
      mismatch(what, `layer ${i} differs from its descriptor "${descriptor.digest}"`);
    }
    if (tar.digest() !== config.rootfs.diff_ids[i]) {
      mismatch(what, `layer ${i} does not match diff_id "${config.rootfs.diff_ids[i]}"`);
    }
  }
}

/** Checks an index and, recursively, every image and index it lists. */
export async function validateIndex(index: ImageIndex): Promise<void> {
  const digest = await index.digest();
  if (sha256Digest(await index.rawManifest()) !== digest) {
    mismatch(`index "${digest}"`, 'digest differs from its bytes');
  }
  for (const child of (await index.indexManifest()).manifests) {
    const resolved: Image | ImageIndex = isIndexMediaType(child.mediaType)
      ? await index.imageIndex(child.digest)
      : await index.image(child.digest);
    const raw = await resolved.rawManifest();
    if (sha256Digest(raw) !== child.digest || raw.byteLength !== child.size) {
      mismatch(`index "${digest}"`, `entry "${child.digest}" differs from its manifest`);
    }
    if (isImageIndex(resolved)) await validateIndex(resolved);
    else await validateImage(resolved);
  }
}

function mismatch(what: string, reason: string): never {
  throw new CopaError('DIGEST_MISMATCH', `validating ${what}: ${reason}`);
}
