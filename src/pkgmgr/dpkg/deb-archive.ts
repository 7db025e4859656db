/**
 * Reading `.deb` files: an `ar` archive with `debian-binary`, `control.tar[.xz|.gz|.zst]` and
 * `data.tar[.xz|.gz|.zst]`. https://manpages.debian.org/bookworm/dpkg-dev/deb.5.en.html
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pipeline } from 'node:stream/promises';
import { PassThrough, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';

import tar from 'tar-stream';
import { DecompressStream } from 'zstd-napi';

import { CopaError } from '../../errors.js';

const lzma = createRequire(import.meta.url)('lzma-native') as {
  createDecompressor(options?: { bufsize?: number }): Transform;
};

/** Read size of a member and output block of the xz decoder: fewer, larger chunks to parse. */
const CHUNK_BYTES = 256 * 1024;

/** One member of an `ar` archive: where its bytes lie in the file. */
export interface ArMember {
  readonly name: string;
  readonly offset: number;
  readonly sizeBytes: number;
}

const AR_MAGIC = '!<arch>\n';
const HEADER_SIZE = 60;

/** Lists the members of an `ar` archive; throws `PACKAGE_INVALID` when it is not one. */
export async function readArMembers(path: string): Promise<ArMember[]> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const magic = Buffer.alloc(AR_MAGIC.length);
    await file.read(magic, 0, magic.length, 0);
    if (magic.toString('latin1') !== AR_MAGIC) throw invalid(path, 'not an ar archive');
    const members: ArMember[] = [];
    const header = Buffer.alloc(HEADER_SIZE);
    let pos = AR_MAGIC.length;
    while (pos + HEADER_SIZE <= size) {
      await file.read(header, 0, HEADER_SIZE, pos);
      const name = header.toString('latin1', 0, 16).trimEnd().replace(/\/$/, '');
      const sizeBytes = Number(header.toString('latin1', 48, 58).trim());
      if (!Number.isSafeInteger(sizeBytes) || header.toString('latin1', 58, 60) !== '`\n') {
        throw invalid(path, `bad ar header at offset ${pos}`);
      }
      if (pos + HEADER_SIZE + sizeBytes > size)
        throw invalid(path, `member "${name}" is truncated`);
      members.push({ name, offset: pos + HEADER_SIZE, sizeBytes });
      pos += HEADER_SIZE + sizeBytes + (sizeBytes % 2);
    }
    return members;
  } finally {
    await file.close();
  }
}

function invalid(path: string, reason: string): CopaError {
  return new CopaError('PACKAGE_INVALID', `reading package "${path}": ${reason}`, {
    hint: 'Remove the file from the download cache and run again.',
  });
}

/** Returns the decompressor for a member name (`data.tar.xz`), or throws `PACKAGE_INVALID`. */
function decompressorFor(path: string, name: string): Transform {
  if (name.endsWith('.tar')) return new PassThrough();
  if (name.endsWith('.tar.gz')) return createGunzip({ chunkSize: CHUNK_BYTES });
  if (name.endsWith('.tar.xz') || name.endsWith('.tar.lzma')) {
    return lzma.createDecompressor({ bufsize: CHUNK_BYTES });
  }
  if (name.endsWith('.tar.zst')) return new DecompressStream();
  throw invalid(path, `unsupported compression of member "${name}"`);
}

/** One tar entry of a member, with its content stream (consume or resume it). */
export interface DebTarEntry {
  readonly header: tar.Header;
  readonly stream: AsyncIterable<Buffer>;
}

/**
 * Streams the entries of the `control.tar*` or `data.tar*` member through `onEntry`, one at a
 * time; `onEntry` must consume the entry's stream (or it is drained). Throws `PACKAGE_INVALID`
 * when the member is missing or cannot be decompressed, the signal's reason when aborted.
 */
export async function forEachTarEntry(
  path: string,
  which: 'control' | 'data',
  onEntry: (entry: DebTarEntry) => Promise<void>,
  options: { readonly signal?: AbortSignal } = {},
): Promise<void> {
  const { signal } = options;
  signal?.throwIfAborted();
  const members = await readArMembers(path);
  if (members[0]?.name !== 'debian-binary') throw invalid(path, 'no "debian-binary" member');
  const member = members.find((m) => m.name.startsWith(`${which}.tar`));
  if (member === undefined) throw invalid(path, `no "${which}.tar" member`);
  const extract = tar.extract();
  const end = member.offset + member.sizeBytes - 1;
  const source = createReadStream(path, {
    start: member.offset,
    end,
    highWaterMark: CHUNK_BYTES,
  });
  const feeding = pipeline(source, decompressorFor(path, member.name), extract, {
    ...(signal ? { signal } : {}),
  });
  try {
    for await (const entry of extract) {
      signal?.throwIfAborted();
      await onEntry({ header: entry.header, stream: entry as unknown as AsyncIterable<Buffer> });
      entry.resume();
    }
    await feeding;
  } catch (err) {
    feeding.catch(() => undefined);
    extract.destroy();
    signal?.throwIfAborted();
    if (err instanceof CopaError) throw err;
    throw new CopaError(
      'PACKAGE_INVALID',
      `reading "${member.name}" of "${path}": ${String(err)}`,
      {
        cause: err,
        hint: 'Remove the file from the download cache and run again.',
      },
    );
  }
}

/** One member of `control.tar`: `control`, `md5sums`, `conffiles`, maintainer scripts… */
export interface ControlMember {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly mode: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
}

/** Reads every regular file of `control.tar` into memory (control members are small). */
export async function readControlMembers(
  path: string,
  options: { readonly signal?: AbortSignal } = {},
): Promise<Map<string, ControlMember>> {
  const members = new Map<string, ControlMember>();
  await forEachTarEntry(
    path,
    'control',
    async ({ header, stream }) => {
      if (header.type !== 'file') return;
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      const name = header.name.replace(/^\.\//, '');
      members.set(name, {
        name,
        bytes: Buffer.concat(chunks),
        mode: (header.mode ?? 0o644) & 0o7777,
        mtime: Math.floor((header.mtime?.getTime() ?? 0) / 1000),
      });
    },
    options,
  );
  if (!members.has('control')) throw invalid(path, 'control.tar has no "control" file');
  return members;
}
