import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import tar from 'tar-stream';

import { CopaError } from '../errors.js';
import type { ByteStream } from '../image/types.js';

/** One entry of a tar stream, with PAX overrides applied and the path normalised. */
export interface TarEntry {
  /** Relative path without `./`, leading `/` or trailing `/` (`usr/bin`). */
  readonly path: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Link target; for hard links normalised like `path`. */
  readonly target?: string;
}

/**
 * Calls `onEntry` for each entry of an uncompressed tar stream, in order. `body` yields the
 * entry's content; it is drained when `onEntry` returns without reading it. The next entry is not
 * read before `onEntry` settles. Throws a `CopaError` with code `LAYER_INVALID` for a stream that
 * is not a tar.
 */
export async function forEachTarEntry(
  source: ByteStream,
  onEntry: (entry: TarEntry, body: AsyncIterable<Uint8Array>) => Promise<void> | void,
): Promise<void> {
  // Old v7 headers have no magic; the header checksum still rejects what is not a tar.
  const extract = tar.extract({ allowUnknownFormat: true } as Parameters<typeof tar.extract>[0]);
  const feeding = pipeline(Readable.from(source, { objectMode: false }), extract);
  feeding.catch(() => {});
  try {
    for await (const stream of extract) {
      await onEntry(toEntry(stream.header), stream as unknown as AsyncIterable<Uint8Array>);
      stream.resume();
    }
    await feeding;
  } catch (err) {
    extract.destroy();
    if (err instanceof CopaError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new CopaError('LAYER_INVALID', `reading layer tar: ${reason}`, { cause: err });
  }
}

/** Normalises a tar path: no `./` or `/` at the start, no `/` at the end, no empty parts. */
export function normalizeTarPath(name: string): string {
  return name
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

type PaxHeaders = tar.Header & { pax?: Record<string, string> | null };

function toEntry(header: tar.Header): TarEntry {
  const pax = ((header as PaxHeaders).pax ?? {}) as Record<string, string>;
  const type = entryType(header.type);
  const linkname = header.linkname ?? undefined;
  return {
    path: normalizeTarPath(header.name),
    type,
    mode: (header.mode ?? 0) & 0o7777,
    uid: pax['uid'] !== undefined ? Number(pax['uid']) : (header.uid ?? 0),
    gid: pax['gid'] !== undefined ? Number(pax['gid']) : (header.gid ?? 0),
    size: header.size ?? 0,
    ...(linkname === undefined || linkname === ''
      ? {}
      : { target: type === 'hardlink' ? normalizeTarPath(linkname) : linkname }),
  };
}

function entryType(type: tar.Header['type']): TarEntry['type'] {
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'hardlink';
    default:
      return 'other';
  }
}
