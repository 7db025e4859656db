import type { CliIo, OutputStream } from '../../src/cli/io.js';

/** An output stream that keeps what is written, optionally posing as a terminal. */
export class CapturedStream implements OutputStream {
  text = '';

  constructor(
    readonly isTTY = false,
    readonly columns = 100,
  ) {}

  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }

  /** The lines written so far, without the final empty one. */
  lines(): string[] {
    return this.text.split('\n').filter((line, i, all) => line !== '' || i < all.length - 1);
  }
}

/** A CLI environment with captured stdout and stderr and no colours. */
export interface CapturedIo extends CliIo {
  readonly stdout: CapturedStream;
  readonly stderr: CapturedStream;
}

/** Creates an in-memory {@link CliIo}; `signal` stands in for Ctrl-C. */
export function captureIo(
  options: { signal?: AbortSignal; stderrIsTTY?: boolean } = {},
): CapturedIo {
  return {
    stdout: new CapturedStream(),
    stderr: new CapturedStream(options.stderrIsTTY === true),
    env: { NO_COLOR: '1' },
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
}
