/**
 * The deterministic layer writer: the same entries always give the same tar, byte for byte, and
 * with the same compressor version the same blob.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { CopaError } from '../errors.js';
import { DigestCounter } from '../image/digest.js';
import { MediaType, type ByteStream } from '../image/types.js';
import { createCompressor } from './compression.js';
import { fileLayer, type FileLayer } from './file-layer.js';
import { encodeTarHeader, endOfArchive, paddingFor, type TarHeader } from './tar-header.js';
import type { Compression, FileContent, LayerEntry } from './types.js';

export type MediaTypeFamily = 'oci' | 'docker';

export interface WriteLayerOptions {
  compression: Compression;
  /** Directory the blob file is written to; it is named after the blob's hex digest. */
  dir: string;
  /**
   * Time of every entry, in seconds since the epoch: entries with a later or no `mtime` get
   * this one. Defaults to `SOURCE_DATE_EPOCH`, else 0.
   */
  mtime?: number;
  /** Gzip level, 1 to 9; default 6. */
  gzipLevel?: number;
  /** Media types of the result; default `oci`. Docker has no zstd layer type. */
  mediaTypeFamily?: MediaTypeFamily;
  signal?: AbortSignal;
}

/**
 * Writes a layer blob from entries, in one streaming pass: tar, compression, digest (of the
 * stored bytes) and diffId (of the tar) are computed as the file is written, so neither the tar
 * nor the blob is ever held in memory. File contents are read from their sources as they are
 * written.
 *
 * Entries are sorted by path, component by component in byte order, so a directory comes right
 * before its children; no missing parents are added. Whiteouts become `.wh.<name>` files and
 * opaque markers `.wh..wh..opq`, per the image spec.
 *
 * Throws a `CopaError` with code `LAYER_INVALID` for a duplicate or malformed path, or content
 * whose size differs from the one declared.
 */
export async function writeLayer(
  entries: Iterable<LayerEntry>,
  options: WriteLayerOptions,
): Promise<FileLayer> {
  checkOptions(options);
  const mediaType = layerMediaType(options.compression, options.mediaTypeFamily ?? 'oci');
  const sorted = sortEntries(entries);
  const mtime = resolveMtime(options.mtime);
  const tmp = join(options.dir, `.layer-${randomBytes(6).toString('hex')}.partial`);
  const tar = new DigestCounter();
  const blob = new DigestCounter();

  const compressor =
    options.compression === 'uncompressed'
      ? new PassThrough()
      : createCompressor(options.compression, { gzipLevel: options.gzipLevel });
  try {
    await pipeline(
      blocks(tarStream(sorted, mtime)),
      count(tar),
      compressor,
      count(blob),
      createWriteStream(tmp),
      { signal: options.signal },
    );
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }

  const digest = blob.digest();
  const path = join(options.dir, digest.slice('sha256:'.length));
  await rename(tmp, path);
  return fileLayer(path, { mediaType, digest, diffId: tar.digest(), sizeBytes: blob.sizeBytes });
}

/** Returns the media type of a written layer. */
export function layerMediaType(compression: Compression, family: MediaTypeFamily): string {
  if (family === 'docker') {
    if (compression === 'zstd') {
      throw new CopaError(
        'MEDIA_TYPE_UNSUPPORTED',
        'writing layer: Docker images have no zstd layers',
        {
          hint: 'Use gzip or uncompressed layers for Docker-format images, or OCI media types.',
        },
      );
    }
    return compression === 'gzip' ? MediaType.DockerLayerGzip : MediaType.DockerLayer;
  }
  if (compression === 'gzip') return MediaType.OciLayerGzip;
  if (compression === 'zstd') return MediaType.OciLayerZstd;
  return MediaType.OciLayer;
}

function checkOptions(options: WriteLayerOptions): void {
  const level = options.gzipLevel;
  if (level !== undefined && !(Number.isInteger(level) && level >= 1 && level <= 9)) {
    throw new RangeError(`gzipLevel must be an integer from 1 to 9, got ${level}`);
  }
  if (options.mtime !== undefined && !(Number.isFinite(options.mtime) && options.mtime >= 0)) {
    throw new RangeError(`mtime must be seconds since the epoch, got ${options.mtime}`);
  }
  if (!['gzip', 'zstd', 'uncompressed'].includes(options.compression)) {
    throw new RangeError(
      `compression must be gzip, zstd or uncompressed, got ${String(options.compression)}`,
    );
  }
}

function resolveMtime(mtime: number | undefined): number {
  if (mtime !== undefined) return Math.floor(mtime);
  const epoch = process.env['SOURCE_DATE_EPOCH'];
  if (epoch !== undefined && /^[0-9]+$/.test(epoch)) return Number(epoch);
  return 0;
}

function count(counter: DigestCounter) {
  return async function* (source: AsyncIterable<Uint8Array>): ByteStream {
    for await (const chunk of source) {
      counter.update(chunk);
      yield chunk;
    }
  };
}

interface SortedEntry {
  entry: LayerEntry;
  /** The path written to the tar. */
  name: string;
  key: Buffer[];
}

function sortEntries(entries: Iterable<LayerEntry>): SortedEntry[] {
  const sorted: SortedEntry[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    checkPath(entry.path);
    const name = tarName(entry);
    if (seen.has(name)) {
      throw new CopaError('LAYER_INVALID', `writing layer: path "${name}" is given twice`);
    }
    seen.add(name);
    sorted.push({ entry, name, key: name.split('/').map((part) => Buffer.from(part)) });
  }
  return linksAfterTargets(sorted.sort((a, b) => compareKeys(a.key, b.key)));
}

/** Moves each hard link that sorts before its target to right after it, as extractors need. */
function linksAfterTargets(sorted: SortedEntry[]): SortedEntry[] {
  const position = new Map(sorted.map((s, i) => [s.name, i]));
  const deferred = new Map<string, SortedEntry[]>();
  const early = (s: SortedEntry) =>
    s.entry.type === 'hardlink' &&
    (position.get(s.entry.target) ?? -1) > (position.get(s.name) ?? 0);
  for (const s of sorted) {
    if (!early(s) || s.entry.type !== 'hardlink') continue;
    deferred.set(s.entry.target, [...(deferred.get(s.entry.target) ?? []), s]);
  }
  if (deferred.size === 0) return sorted;
  const withLinks = (s: SortedEntry): SortedEntry[] => [
    s,
    ...(deferred.get(s.name) ?? []).flatMap(withLinks),
  ];
  return sorted.filter((s) => !early(s)).flatMap(withLinks);
}

function compareKeys(a: Buffer[], b: Buffer[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = Buffer.compare(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

function checkPath(path: string): void {
  const parts = path.split('/');
  const bad = parts.some((p) => p === '' || p === '.' || p === '..') || path.includes('\u0000');
  if (bad) {
    throw new CopaError(
      'LAYER_INVALID',
      `writing layer: path "${path}" is not a relative normalised path`,
      { hint: 'Give entry paths like "usr/bin/openssl": no leading "/", "./" or "..".' },
    );
  }
}

function tarName(entry: LayerEntry): string {
  if (entry.type === 'opaque') return `${entry.path}/.wh..wh..opq`;
  if (entry.type !== 'whiteout') return entry.path;
  const slash = entry.path.lastIndexOf('/');
  return `${entry.path.slice(0, slash + 1)}.wh.${entry.path.slice(slash + 1)}`;
}

async function* tarStream(entries: readonly SortedEntry[], mtime: number): ByteStream {
  const files = new OpenFiles();
  try {
    for (const { entry, name } of entries) {
      const header = toHeader(entry, name, mtime);
      yield encodeTarHeader(header);
      if (entry.type === 'file') {
        yield* fileContent(entry.content, name, files);
        const padding = paddingFor(header.size);
        if (padding > 0) yield Buffer.alloc(padding);
      }
    }
    yield endOfArchive();
  } finally {
    await files.close();
  }
}

/** Bytes of tar handed to the compressor at once: one call per block, not per header. */
const BLOCK_BYTES = 1 << 20;

/**
 * Copies the chunks of `source` into blocks of exactly {@link BLOCK_BYTES} (the last one
 * shorter); the bytes are unchanged. Each chunk is copied before the next is asked for, so a
 * source may reuse one buffer for all its chunks (see {@link readRange}).
 */
async function* blocks(source: ByteStream): ByteStream {
  let block = Buffer.allocUnsafe(BLOCK_BYTES);
  let filled = 0;
  for await (const chunk of source) {
    for (let pos = 0; pos < chunk.byteLength;) {
      const n = Math.min(BLOCK_BYTES - filled, chunk.byteLength - pos);
      block.set(chunk.subarray(pos, pos + n), filled);
      filled += n;
      pos += n;
      if (filled === BLOCK_BYTES) {
        yield block;
        block = Buffer.allocUnsafe(BLOCK_BYTES);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield block.subarray(0, filled);
}

/** Files kept open for ranged contents; the least recently opened is closed beyond this. */
const MAX_OPEN_FILES = 32;

/**
 * The files that ranged contents are read from, each opened once while its contents come one
 * after another. Contents are read one at a time, so a file closed here is never being read.
 */
class OpenFiles {
  /** The one buffer ranged contents are read into (see {@link readRange}). */
  readonly scratch = Buffer.allocUnsafe(READ_BYTES);
  readonly #handles = new Map<string, Promise<FileHandle>>();

  get(path: string): Promise<FileHandle> {
    let handle = this.#handles.get(path);
    if (handle === undefined) {
      if (this.#handles.size >= MAX_OPEN_FILES) this.#closeOldest();
      handle = open(path, 'r');
      handle.catch(() => undefined);
      this.#handles.set(path, handle);
    }
    return handle;
  }

  #closeOldest(): void {
    const [path, oldest] = this.#handles.entries().next().value as [string, Promise<FileHandle>];
    this.#handles.delete(path);
    void oldest.then((h) => h.close()).catch(() => undefined);
  }

  async close(): Promise<void> {
    const handles = [...this.#handles.values()];
    this.#handles.clear();
    await Promise.all(handles.map(async (h) => (await h.catch(() => undefined))?.close()));
  }
}

function toHeader(entry: LayerEntry, name: string, mtime: number): TarHeader {
  if (entry.type === 'whiteout' || entry.type === 'opaque') {
    return { name, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime };
  }
  const base: TarHeader = {
    name,
    type: 'file',
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    size: 0,
    mtime: entry.mtime === undefined ? mtime : Math.min(Math.floor(entry.mtime), mtime),
    uname: entry.uname,
    gname: entry.gname,
    xattrs: entry.xattrs,
  };
  switch (entry.type) {
    case 'file':
      return { ...base, size: contentSize(entry.content) };
    case 'directory':
      return { ...base, type: 'directory' };
    case 'symlink':
      return { ...base, type: 'symlink', linkname: entry.target };
    case 'hardlink':
      return { ...base, type: 'hardlink', linkname: entry.target };
    case 'fifo':
      return { ...base, type: 'fifo' };
    case 'char-device':
    case 'block-device':
      return {
        ...base,
        type: entry.type === 'char-device' ? 'char' : 'block',
        devMajor: entry.devMajor,
        devMinor: entry.devMinor,
      };
  }
}

function contentSize(content: FileContent): number {
  return content.kind === 'bytes' ? content.bytes.byteLength : content.size;
}

/** Read size of file contents. */
const READ_BYTES = 1 << 20;

async function* fileContent(content: FileContent, name: string, files: OpenFiles): ByteStream {
  const size = contentSize(content);
  const source: ByteStream =
    content.kind === 'bytes'
      ? Readable.from([content.bytes])
      : content.kind === 'path'
        ? createReadStream(content.path, { highWaterMark: Math.min(READ_BYTES, size || 1) })
        : content.range !== undefined
          ? readRange(
              await files.get(content.range.path),
              content.range.offset,
              size,
              files.scratch,
            )
          : content.open();
  let written = 0;
  for await (const chunk of source) {
    written += chunk.byteLength;
    if (written > size) break;
    yield chunk;
  }
  if (written !== size) {
    const actual = written > size ? 'more bytes' : `${written} bytes`;
    throw new CopaError(
      'LAYER_INVALID',
      `writing layer: content of "${name}" has ${actual}, declared ${size}`,
    );
  }
}

/**
 * Reads `size` bytes from `offset` on with positional reads into `scratch`, yielding views of it:
 * each chunk is valid only until the next is asked for. Stops early at the end of the file.
 */
async function* readRange(
  file: FileHandle,
  offset: number,
  size: number,
  scratch: Buffer,
): ByteStream {
  for (let done = 0; done < size;) {
    const length = Math.min(scratch.length, size - done);
    const { bytesRead } = await file.read(scratch, 0, length, offset + done);
    if (bytesRead === 0) return;
    done += bytesRead;
    yield scratch.subarray(0, bytesRead);
  }
}
