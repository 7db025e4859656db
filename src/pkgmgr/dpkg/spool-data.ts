/**
 * One pass over a `.deb`'s `data.tar`: every member's metadata in archive order, the bodies of
 * regular files appended to one scratch file per package with their MD5 computed on the way.
 */
import { createHash, hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { CopaError } from '../../errors.js';
import type { FileContent } from '../../layer/types.js';
import { forEachTarEntry, type DebTarEntry } from './deb-archive.js';
import { SpoolFile } from '../../layer/spool-file.js';

/** One `data.tar` member, named as dpkg names it in `.list` (`/usr/bin/x`, root as `/.`). */
export interface DataMember {
  readonly path: string;
  readonly type:
    'file' | 'directory' | 'symlink' | 'hardlink' | 'char-device' | 'block-device' | 'fifo';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname?: string;
  readonly gname?: string;
  readonly mtime: number;
  /** Symlink target as written, or the package path of a hard link's target. */
  readonly target?: string;
  readonly devMajor?: number;
  readonly devMinor?: number;
  /** Regular files: where the content was written, its size and MD5 (hard links: the target's). */
  readonly content?: SpooledContent;
}

/** A member's body inside its package's spool file. */
export interface SpooledContent {
  /** The spool file, shared by every member of the package. */
  readonly path: string;
  /** Where the body starts in the spool file. */
  readonly offset: number;
  readonly sizeBytes: number;
  readonly md5: string;
}

/** Turns a tar member name (`./usr/bin/`) into dpkg's package path (`/usr/bin`). */
export function toPackagePath(name: string): string {
  const trimmed = name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  return trimmed === '' || trimmed === '.' ? '/.' : `/${trimmed}`;
}

const TYPES: Record<string, DataMember['type'] | undefined> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'directory',
  symlink: 'symlink',
  link: 'hardlink',
  'character-device': 'char-device',
  'block-device': 'block-device',
  fifo: 'fifo',
};

/** Read size of a member's body when the layer is written. */
const READ_CHUNK_BYTES = 1 << 20;

/** Returns the layer content of a spooled body: its byte range of the spool file. */
export function spooledFileContent(content: SpooledContent): FileContent {
  const { path, offset, sizeBytes } = content;
  const open: Extract<FileContent, { kind: 'stream' }>['open'] =
    sizeBytes === 0
      ? () => Readable.from([])
      : () =>
          createReadStream(path, {
            start: offset,
            end: offset + sizeBytes - 1,
            highWaterMark: Math.min(sizeBytes, READ_CHUNK_BYTES),
          });
  return { kind: 'stream', size: sizeBytes, open, range: { path, offset } };
}

/** Reads a spooled body into memory (for small files such as conffiles). */
export async function readSpooled(content: SpooledContent): Promise<Buffer> {
  const bytes = Buffer.alloc(content.sizeBytes);
  if (content.sizeBytes === 0) return bytes;
  const file = await open(content.path, 'r');
  try {
    for (let done = 0; done < bytes.length;) {
      const { bytesRead } = await file.read(
        bytes,
        done,
        bytes.length - done,
        content.offset + done,
      );
      if (bytesRead === 0) {
        throw new CopaError(
          'INTERNAL',
          `reading spooled "${content.path}": it ends before offset ${content.offset + done}`,
          { hint: 'Something else changed the working folder; run again with a fresh one.' },
        );
      }
      done += bytesRead;
    }
  } finally {
    await file.close();
  }
  return bytes;
}

export interface SpoolOptions {
  readonly signal?: AbortSignal;
}

/**
 * Reads `data.tar` of the package at `debPath`, appending the bodies of regular files to the
 * file `data` below `dir` (created). Returns the members in archive order. Throws
 * `PACKAGE_INVALID` on an unreadable archive, or the signal's reason when it is aborted.
 */
export async function spoolData(
  debPath: string,
  dir: string,
  options: SpoolOptions = {},
): Promise<DataMember[]> {
  await mkdir(dir, { recursive: true });
  const spool = await SpoolFile.create(join(dir, 'data'));
  const members: DataMember[] = [];
  const byPath = new Map<string, DataMember>();
  try {
    await forEachTarEntry(
      debPath,
      'data',
      async (entry) => {
        const member = await toMember(entry, spool, byPath);
        if (member === undefined) return;
        members.push(member);
        byPath.set(member.path, member);
      },
      options,
    );
    await spool.close();
  } catch (err) {
    await spool.abandon();
    throw err;
  }
  return members;
}

async function toMember(
  { header, stream }: DebTarEntry,
  spool: SpoolFile,
  byPath: ReadonlyMap<string, DataMember>,
): Promise<DataMember | undefined> {
  const type = TYPES[header.type ?? 'file'];
  if (type === undefined) return undefined;
  const path = toPackagePath(header.name);
  const base = {
    path,
    type,
    mode: (header.mode ?? 0o644) & 0o7777,
    uid: header.uid ?? 0,
    gid: header.gid ?? 0,
    ...(header.uname ? { uname: header.uname } : {}),
    ...(header.gname ? { gname: header.gname } : {}),
    mtime: Math.floor((header.mtime?.getTime() ?? 0) / 1000),
  };
  switch (type) {
    case 'file':
      return { ...base, content: await spoolBody(stream, spool) };
    case 'hardlink': {
      const target = toPackagePath(header.linkname ?? '');
      const content = byPath.get(target)?.content;
      return { ...base, target, ...(content ? { content } : {}) };
    }
    case 'symlink':
      return { ...base, target: header.linkname ?? '' };
    case 'char-device':
    case 'block-device':
      return { ...base, devMajor: header.devmajor ?? 0, devMinor: header.devminor ?? 0 };
    default:
      return base;
  }
}

/** Appends one body to the spool; a body that arrives in one chunk is hashed in one call. */
async function spoolBody(stream: AsyncIterable<Buffer>, spool: SpoolFile): Promise<SpooledContent> {
  const offset = spool.size;
  let first: Buffer | undefined;
  let md5: ReturnType<typeof createHash> | undefined;
  for await (const chunk of stream) {
    if (first === undefined && md5 === undefined) {
      first = chunk;
    } else {
      if (md5 === undefined) md5 = createHash('md5').update(first!);
      md5.update(chunk);
      first = undefined;
    }
    const wait = spool.append(chunk);
    if (wait !== undefined) await wait;
  }
  const sizeBytes = spool.size - offset;
  const digest = md5 !== undefined ? md5.digest('hex') : hash('md5', first ?? Buffer.alloc(0));
  return { path: spool.path, offset, sizeBytes, md5: digest };
}
