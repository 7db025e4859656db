import type { Logger } from '../log.js';
import type { Colors } from './colors.js';

/** Options of {@link createCliLogger}. */
export interface CliLoggerOptions {
  /** Writes one stderr line; the progress display's, so lines never break a bar. */
  readonly writeLine: (line: string) => void;
  readonly colors: Colors;
  /** Print `debug` lines too. */
  readonly debug: boolean;
}

/**
 * The logger the CLI hands to library code: `info` lines as they are, `warn: …` lines, and
 * `debug: …` lines only with `--debug`. Everything goes to stderr; stdout is for results.
 */
export function createCliLogger(options: CliLoggerOptions): Logger {
  const { writeLine, colors } = options;
  return {
    debug: (message) => {
      if (options.debug) writeLine(colors.dim(`debug: ${message}`));
    },
    info: (message) => writeLine(message),
    warn: (message) => writeLine(`${colors.yellow('warn:')} ${message}`),
  };
}
