/**
 * Parsing and validation of manifests, indexes and config blobs, once, where bytes come in.
 */
import { CopaError } from '../errors.js';
import { isDigest } from './digest.js';
import {
  isIndexMediaType,
  type ConfigFile,
  type Descriptor,
  type IndexManifest,
  type Manifest,
} from './types.js';

type Json = Record<string, unknown>;

/**
 * Parses an image manifest (OCI or Docker schema 2). Throws a `CopaError` with code
 * `MANIFEST_INVALID` naming `what` when the bytes are not one.
 */
export function parseManifest(bytes: Uint8Array, what: string): Manifest {
  const json = parseObject(bytes, what);
  if (json['schemaVersion'] !== 2) invalid(what, 'schemaVersion is not 2');
  if (isIndexMediaType(stringField(json, 'mediaType'))) invalid(what, 'it is an index');
  checkDescriptor(json['config'], what, 'config');
  const layers = json['layers'];
  if (!Array.isArray(layers)) invalid(what, 'layers is not an array');
  layers.forEach((layer, i) => checkDescriptor(layer, what, `layers[${i}]`));
  return json as unknown as Manifest;
}

/**
 * Parses an OCI index or Docker manifest list; throws `MANIFEST_INVALID` like
 * {@link parseManifest}.
 */
export function parseIndexManifest(bytes: Uint8Array, what: string): IndexManifest {
  const json = parseObject(bytes, what);
  if (json['schemaVersion'] !== 2) invalid(what, 'schemaVersion is not 2');
  const manifests = json['manifests'];
  if (!Array.isArray(manifests)) invalid(what, 'manifests is not an array');
  manifests.forEach((m, i) => checkDescriptor(m, what, `manifests[${i}]`));
  return json as unknown as IndexManifest;
}

/** Parses an image config blob; throws `MANIFEST_INVALID` like {@link parseManifest}. */
export function parseConfigFile(bytes: Uint8Array, what: string): ConfigFile {
  const json = parseObject(bytes, what);
  if (typeof json['architecture'] !== 'string') invalid(what, 'architecture is missing');
  if (typeof json['os'] !== 'string') invalid(what, 'os is missing');
  const rootfs = json['rootfs'] as Json | undefined;
  const diffIds = rootfs?.['diff_ids'];
  if (!Array.isArray(diffIds) || diffIds.some((d) => typeof d !== 'string' || !isDigest(d))) {
    invalid(what, 'rootfs.diff_ids is not a list of digests');
  }
  if (json['history'] !== undefined && !Array.isArray(json['history'])) {
    invalid(what, 'history is not an array');
  }
  return json as unknown as ConfigFile;
}

/** Reports whether a parsed manifest blob is an index, from its media type or its shape. */
export function looksLikeIndex(bytes: Uint8Array): boolean {
  try {
    const json = JSON.parse(Buffer.from(bytes).toString('utf8')) as Json;
    return isIndexMediaType(stringField(json, 'mediaType')) || Array.isArray(json['manifests']);
  } catch {
    return false;
  }
}

function parseObject(bytes: Uint8Array, what: string): Json {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    invalid(what, `not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    invalid(what, 'not a JSON object');
  }
  return json as Json;
}

function checkDescriptor(value: unknown, what: string, field: string): asserts value is Descriptor {
  const d = value as Json | undefined;
  if (typeof d !== 'object' || d === null) invalid(what, `${field} is not a descriptor`);
  if (typeof d['mediaType'] !== 'string') invalid(what, `${field}.mediaType is missing`);
  if (typeof d['digest'] !== 'string' || !isDigest(d['digest'])) {
    invalid(what, `${field}.digest is not a digest`);
  }
  if (typeof d['size'] !== 'number' || !Number.isSafeInteger(d['size']) || d['size'] < 0) {
    invalid(what, `${field}.size is not a size`);
  }
}

function stringField(json: Json, key: string): string | undefined {
  const value = json[key];
  return typeof value === 'string' ? value : undefined;
}

function invalid(what: string, reason: string): never {
  throw new CopaError('MANIFEST_INVALID', `parsing ${what}: ${reason}`);
}
