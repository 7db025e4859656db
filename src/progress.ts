/**
 * How a transfer ended: `done` finished, `skipped` was not needed (the blob already exists, it
 * came from the cache), `failed` stopped with an error.
 */
export type ProgressStatus = 'done' | 'skipped' | 'failed';

/**
 * Receives byte progress of long transfers (layer downloads and uploads, package downloads).
 * Library code calls it; the CLI draws bars on a terminal or plain lines elsewhere. `id` is unique
 * per transfer within a run; `label` is what the user reads (`linux/amd64: pulling "sha256:ab12"`).
 * Implementations must be cheap: `update` can be called for every chunk.
 */
export interface ProgressReporter {
  /** A transfer begins; `totalBytes` is omitted when the size is unknown. */
  start(id: string, label: string, totalBytes?: number): void;
  /** `bytes` more bytes were transferred since the previous call (a delta, not a total). */
  update(id: string, bytes: number): void;
  /** The transfer ended; no more calls follow for `id`. */
  done(id: string, status: ProgressStatus): void;
}

/** A reporter that discards everything: the default of every library function. */
export const silentProgress: ProgressReporter = Object.freeze({
  start() {},
  update() {},
  done() {},
});
