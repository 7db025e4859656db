/** Bounds how many tasks run at once; the rest wait in arrival order. */
export class Limiter {
  readonly #max: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`concurrency must be an integer >= 1, got ${max}`);
    }
    this.#max = max;
  }

  /** Waits for a slot; the returned function gives it back and must be called once. */
  async acquire(): Promise<() => void> {
    if (this.#running >= this.#max) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    };
  }

  /** Runs `task` in a slot. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  }
}

/** Maps `items` through `task` with at most `concurrency` running at once, keeping order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const limiter = new Limiter(concurrency);
  return Promise.all(items.map((item, i) => limiter.run(() => task(item, i))));
}
