import picocolors from 'picocolors';

import type { OutputStream } from './io.js';

/** ANSI colour formatters; each returns its input unchanged when colour is off. */
export type Colors = ReturnType<typeof picocolors.createColors>;

/**
 * Colours for `stream`: on for a terminal, off otherwise. `NO_COLOR` (any value) turns them off
 * and `FORCE_COLOR` (other than `0`) turns them on, as most command-line tools agree.
 */
export function colorsFor(
  stream: OutputStream,
  env: Readonly<Record<string, string | undefined>>,
): Colors {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0';
  const disabled = env.NO_COLOR !== undefined || env.TERM === 'dumb';
  return picocolors.createColors(forced || (!disabled && stream.isTTY === true));
}
