import type { ByteStream, Image, ImageIndex, Layer } from '../image/index.js';
import { decompressStream } from '../layer/index.js';
import { silentProgress, type ProgressReporter } from '../progress.js';

/** Names a transfer from the digest of what is transferred. */
export type LabelOf = (digest: string) => string;

/**
 * The progress of one run: hands out transfer ids and wraps layers, images and phases so that
 * reading their bytes is reported to a {@link ProgressReporter}. Wrapping does no I/O; a
 * transfer starts when its stream is first read and ends when it is read to the end (`done`),
 * abandoned (`done`) or fails (`failed`).
 */
export class RunProgress {
  readonly #reporter: ProgressReporter;
  #next = 0;

  constructor(reporter: ProgressReporter = silentProgress) {
    this.#reporter = reporter;
  }

  /**
   * Runs `work` as a phase shown under `label`, without a byte total; `bytesOf` may tell the
   * size of what the phase produced once it is done.
   */
  async phase<T>(
    label: string,
    work: () => Promise<T>,
    bytesOf?: (result: T) => Promise<number>,
  ): Promise<T> {
    const id = this.#id('phase');
    this.#reporter.start(id, label);
    try {
      const result = await work();
      if (bytesOf !== undefined) this.#reporter.update(id, await bytesOf(result));
      this.#reporter.done(id, 'done');
      return result;
    } catch (err) {
      this.#reporter.done(id, 'failed');
      throw err;
    }
  }

  /**
   * The layer with its stored bytes (and the uncompressed stream read from them) reported. With
   * `once`, only the first read is reported: a file tree reads its layers in several passes.
   */
  layer(layer: Layer, labelOf: LabelOf, options: { readonly once?: boolean } = {}): Layer {
    let reads = 0;
    const compressed = (): Promise<ByteStream> => {
      reads += 1;
      if (options.once === true && reads > 1) return layer.compressed();
      return Promise.resolve(this.#counted(layer, labelOf));
    };
    return new Proxy(layer, {
      get: (target, key) => {
        if (key === 'compressed') return compressed;
        if (key === 'uncompressed') return async () => decompressed(compressed);
        return bound(target, key);
      },
    });
  }

  /** The image with the stored bytes of each of its layers reported. */
  image(image: Image, labelOf: LabelOf): Image {
    const wrap = (layer: Layer) => this.layer(layer, labelOf);
    return new Proxy(image, {
      get: (target, key) => {
        if (key === 'layers') return async () => (await target.layers()).map(wrap);
        if (key === 'layerByDigest')
          return async (d: string) => wrap(await target.layerByDigest(d));
        return bound(target, key);
      },
    });
  }

  /** The index with the layers of every image below it reported. */
  index(index: ImageIndex, labelOf: LabelOf): ImageIndex {
    return new Proxy(index, {
      get: (target, key) => {
        if (key === 'image') return async (d: string) => this.image(await target.image(d), labelOf);
        if (key === 'imageIndex') {
          return async (d: string) => this.index(await target.imageIndex(d), labelOf);
        }
        return bound(target, key);
      },
    });
  }

  #id(kind: string): string {
    this.#next += 1;
    return `${kind}-${this.#next}`;
  }

  async *#counted(layer: Layer, labelOf: LabelOf): ByteStream {
    const [digest, size] = await Promise.all([layer.digest(), layer.size()]);
    const id = this.#id('blob');
    const stream = await layer.compressed();
    this.#reporter.start(id, labelOf(digest), size);
    let status: 'done' | 'failed' = 'done';
    try {
      for await (const chunk of stream) {
        this.#reporter.update(id, chunk.byteLength);
        yield chunk;
      }
    } catch (err) {
      status = 'failed';
      throw err;
    } finally {
      this.#reporter.done(id, status);
    }
  }
}

/** A short form of a digest for labels: the algorithm and 12 hex digits. */
export function shortDigest(digest: string): string {
  const [algorithm, hex = ''] = digest.split(':');
  return `${algorithm}:${hex.slice(0, 12)}`;
}

async function decompressed(compressed: () => Promise<ByteStream>): Promise<ByteStream> {
  return decompressStream(await compressed());
}

function bound(target: object, key: string | symbol): unknown {
  const value: unknown = Reflect.get(target, key);
  return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
}
