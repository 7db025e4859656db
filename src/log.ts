/**
 * The logger library code receives. Lines read like error messages: lower case, no final
 * period, values quoted. `debug` is detail, `info` one line per phase per platform, `warn` for
 * what the user should act on while the run goes on.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

/** A logger that discards everything: the default of every library function. */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
});

/** Returns a logger whose lines start with `prefix` (a platform, say), sent to `base`. */
export function prefixLogger(base: Logger, prefix: string): Logger {
  return {
    debug: (m) => base.debug(`${prefix}: ${m}`),
    info: (m) => base.info(`${prefix}: ${m}`),
    warn: (m) => base.warn(`${prefix}: ${m}`),
  };
}
