/**
 * One pass over a `.deb`'s `data.tar`: every member's metadata in archive order, regular files
 * written to a scratch directory with their MD5 computed on the way.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { forEachTarEntry } from './deb-archive.js';

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
  readonly content?: { readonly path: string; readonly sizeBytes: number; readonly md5: string };
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

/**
 * Reads `data.tar` of the package at `debPath`, writing regular files below `dir` (created).
 * Returns the members in archive order. Throws `PACKAGE_INVALID` on an unreadable archive.
 */
export async function spoolData(debPath: string, dir: string): Promise<DataMember[]> {
  await mkdir(dir, { recursive: true });
  const members: DataMember[] = [];
  const byPath = new Map<string, DataMember>();
  await forEachTarEntry(debPath, 'data', async ({ header, stream }) => {
    const type = TYPES[header.type ?? 'file'];
    if (type === undefined) return;
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
    let member: DataMember;
    if (type === 'file') {
      const file = join(dir, String(members.length));
      const md5 = createHash('md5');
      let sizeBytes = 0;
      const counted = Readable.from(stream).map((chunk: Buffer) => {
        md5.update(chunk);
        sizeBytes += chunk.length;
        return chunk;
      });
      await pipeline(counted, createWriteStream(file));
      member = { ...base, content: { path: file, sizeBytes, md5: md5.digest('hex') } };
    } else if (type === 'hardlink') {
      const target = toPackagePath(header.linkname ?? '');
      member = {
        ...base,
        target,
        ...(byPath.get(target)?.content ? { content: byPath.get(target)!.content! } : {}),
      };
    } else if (type === 'symlink') {
      member = { ...base, target: header.linkname ?? '' };
    } else if (type === 'char-device' || type === 'block-device') {
      member = { ...base, devMajor: header.devmajor ?? 0, devMinor: header.devminor ?? 0 };
    } else {
      member = base;
    }
    members.push(member);
    byPath.set(path, member);
  });
  return members;
}
