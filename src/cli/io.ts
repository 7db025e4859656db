/** A stream the CLI writes text to: `process.stdout`, `process.stderr`, or a test's collector. */
export interface OutputStream {
  write(chunk: string): unknown;
  /** True when the stream is a terminal; progress bars are drawn only then (or when forced). */
  readonly isTTY?: boolean;
  /** Terminal width in columns, when known. */
  readonly columns?: number;
}

/**
 * Everything the command line touches outside itself, so tests run it in-process. stdout carries
 * results only (references, JSON, VEX); stderr carries logs, progress and errors.
 */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted when the user asks to stop (Ctrl-C, SIGTERM); the running command is cancelled. */
  readonly signal?: AbortSignal;
}

/** The real process's streams and environment, without a cancellation signal. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}
