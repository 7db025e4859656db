import type { ByteStream } from '../image/types.js';

/**
 * One entry of a layer to write. Paths are absolute-free and normalised (`usr/bin/openssl`, no
 * leading `/` or `./`). The writer sorts entries, so callers may add them in any order.
 */
export type LayerEntry =
  | (EntryAttributes & { type: 'file'; content: FileContent })
  | (EntryAttributes & { type: 'directory' })
  | (EntryAttributes & { type: 'symlink'; target: string })
  | (EntryAttributes & { type: 'hardlink'; target: string })
  | (EntryAttributes & { type: 'char-device' | 'block-device'; devMajor: number; devMinor: number })
  | (EntryAttributes & { type: 'fifo' })
  /** An image-spec whiteout: `dir/.wh.name` is written for the path. */
  | { type: 'whiteout'; path: string }
  /** An opaque-directory marker: `dir/.wh..wh..opq`. */
  | { type: 'opaque'; path: string };

export interface EntryAttributes {
  path: string;
  /** Permission bits with setuid/setgid/sticky, without the file-type bits. */
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** Modification time in seconds since the epoch; the writer may clamp it. */
  mtime?: number;
  /** Extended attributes (`security.capability` and the like), values as raw bytes. */
  xattrs?: Record<string, Uint8Array>;
}

/**
 * File content: bytes in memory (small files only), a file on disk, or a stream factory. The
 * size must be exact; the writer fails on a mismatch.
 */
export type FileContent =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'path'; path: string; size: number }
  | {
      kind: 'stream';
      size: number;
      open: () => ByteStream;
      /**
       * Set when the bytes are `size` bytes of a file from `offset` on, as `open()` streams them:
       * a writer may then read them with positional reads from one open file.
       */
      range?: { path: string; offset: number };
    };

export type Compression = 'gzip' | 'zstd' | 'uncompressed';
