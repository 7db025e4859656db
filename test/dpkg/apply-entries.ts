/**
 * Applies layer entries to an unpacked root file system the way a container runtime applies a
 * layer: whiteouts remove lower paths, directories over directories take the new attributes,
 * anything else replaces what was there.
 */
import { chmod, copyFile, lchown, link, lstat, mkdir, rm, symlink, utimes } from 'node:fs/promises';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';

import type { LayerEntry } from '../../src/layer/types.js';

/** Applies `entries` below `root` (whiteouts first, then parents before children). */
export async function applyEntries(root: string, entries: readonly LayerEntry[]): Promise<void> {
  for (const e of entries) {
    if (e.type === 'whiteout') await rm(join(root, e.path), { recursive: true, force: true });
  }
  const sorted = entries
    .filter((e) => e.type !== 'whiteout' && e.type !== 'opaque')
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const e of sorted) await applyEntry(root, e);
}

async function exists(path: string) {
  return lstat(path).catch(() => undefined);
}

async function applyEntry(root: string, e: LayerEntry): Promise<void> {
  if (e.type === 'whiteout' || e.type === 'opaque') return;
  const target = join(root, e.path);
  await mkdir(dirname(target), { recursive: true });
  const old = await exists(target);
  if (e.type === 'directory') {
    if (old !== undefined && !old.isDirectory()) await rm(target, { force: true });
    await mkdir(target, { recursive: true });
  } else {
    if (old !== undefined) await rm(target, { recursive: true, force: true });
    if (e.type === 'file') {
      if (e.content.kind === 'path') await copyFile(e.content.path, target);
      else if (e.content.kind === 'bytes') await writeFile(target, e.content.bytes);
      else await pipeline(Readable.from(e.content.open()), createWriteStream(target));
    } else if (e.type === 'symlink') {
      await symlink(e.target, target);
    } else if (e.type === 'hardlink') {
      await link(join(root, e.target), target);
      return;
    } else {
      throw new Error(`applying "${e.path}": ${e.type} entries are not supported by this helper`);
    }
  }
  await lchown(target, e.uid, e.gid);
  if (e.type !== 'symlink') await chmod(target, e.mode);
  if (e.mtime !== undefined && e.type !== 'symlink') await utimes(target, e.mtime, e.mtime);
}
