/**
 * A {@link FileTree} over a directory on disk (an unpacked root file system), for tests. Each
 * `readFiles` call walks the whole directory once; regular files are reported as files (hard
 * links are not told apart), and only the selected files' content is read.
 */
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

import type { FileTree, TreeFile } from '../../src/pkgmgr/types.js';

/** Returns a tree reading `root`; paths are relative to it, without a leading `/`. */
export function createRootfsTree(root: string): FileTree {
  return {
    async readFiles(select) {
      const out = new Map<string, TreeFile>();
      await walk(root, '', select, out);
      return out;
    },
  };
}

async function walk(
  root: string,
  dir: string,
  select: (path: string) => boolean,
  out: Map<string, TreeFile>,
): Promise<void> {
  const names = await readdir(join(root, dir));
  for (const name of names.sort()) {
    const path = dir === '' ? name : `${dir}/${name}`;
    const full = join(root, path);
    const st = await lstat(full);
    if (select(path)) out.set(path, await toTreeFile(full, path, st));
    if (st.isDirectory()) await walk(root, path, select, out);
  }
}

async function toTreeFile(
  full: string,
  path: string,
  st: Awaited<ReturnType<typeof lstat>>,
): Promise<TreeFile> {
  const base = { path, mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid) };
  if (st.isDirectory()) return { ...base, type: 'directory' };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink', target: await readlink(full) };
  if (st.isFile()) return { ...base, type: 'file', content: await readFile(full) };
  return { ...base, type: 'other' };
}
