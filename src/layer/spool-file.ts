/**
 * An append-only scratch file written in large blocks: the bytes of many files (a package's
 * members, a layer's file bodies) go into one file, each found again by its offset, instead of
 * one file (and one open/close) each.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** Bytes collected before a write is issued. */
const BLOCK_BYTES = 1 << 20;

/**
 * Appends chunks to a new file. At most one write is in flight while the next block fills;
 * `append()` returns a promise only when the caller must wait for that write (backpressure).
 */
export class SpoolFile {
  readonly path: string;
  readonly #handle: FileHandle;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Bytes appended so far: the offset the next chunk starts at. */
  #size = 0;
  /** Bytes handed to writes so far. */
  #flushed = 0;
  #writing: Promise<void> = Promise.resolve();

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.#handle = handle;
  }

  /** Creates (or truncates) the file at `path`. */
  static async create(path: string): Promise<SpoolFile> {
    return new SpoolFile(path, await open(path, 'w'));
  }

  /** The number of bytes appended: where the next appended byte will lie. */
  get size(): number {
    return this.#size;
  }

  /** Appends a chunk (kept, not copied, until written); await the result when there is one. */
  append(chunk: Uint8Array): Promise<void> | undefined {
    if (chunk.byteLength === 0) return undefined;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.byteLength;
    this.#size += chunk.byteLength;
    return this.#pendingBytes >= BLOCK_BYTES ? this.#flush() : undefined;
  }

  /** Writes what is pending and closes the file. */
  async close(): Promise<void> {
    try {
      await this.#flush();
      await this.#writing;
    } finally {
      await this.#handle.close();
    }
  }

  /** Closes the file after a failure, ignoring write errors (the file is to be discarded). */
  async abandon(): Promise<void> {
    await this.#writing.catch(() => undefined);
    await this.#handle.close().catch(() => undefined);
  }

  async #flush(): Promise<void> {
    await this.#writing;
    if (this.#pendingBytes === 0) return;
    const block =
      this.#pending.length === 1
        ? this.#pending[0]!
        : Buffer.concat(this.#pending, this.#pendingBytes);
    const position = this.#flushed;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#flushed += block.byteLength;
    this.#writing = writeAll(this.#handle, block, position);
    // A failed write is reported by the next append or by close(); never left unhandled.
    this.#writing.catch(() => undefined);
  }
}

async function writeAll(handle: FileHandle, block: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < block.byteLength;) {
    const { bytesWritten } = await handle.write(
      block,
      done,
      block.byteLength - done,
      position + done,
    );
    done += bytesWritten;
  }
}
