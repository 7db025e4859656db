/** An in-memory {@link FileTree} for apt tests: paths without a leading `/` mapped to content. */
import type { FileTree, TreeFile } from '../../src/pkgmgr/types.js';

/** A file's content, or a symbolic link. */
export type MemoryFile = string | Uint8Array | { readonly symlink: string };

/** Returns a tree over `files`; `reads` counts the `readFiles` calls. */
export function memoryTree(
  files: Readonly<Record<string, MemoryFile>>,
): FileTree & { reads: number } {
  const tree = {
    reads: 0,
    async readFiles(select: (path: string) => boolean) {
      tree.reads++;
      const out = new Map<string, TreeFile>();
      for (const [path, file] of Object.entries(files)) {
        if (!select(path)) continue;
        const base = { path, mode: 0o644, uid: 0, gid: 0 };
        if (typeof file === 'object' && 'symlink' in file) {
          out.set(path, { ...base, type: 'symlink', target: file.symlink });
        } else {
          const content = typeof file === 'string' ? new TextEncoder().encode(file) : file;
          out.set(path, { ...base, type: 'file', content });
        }
      }
      return out;
    },
  };
  return tree;
}
