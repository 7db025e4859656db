const unitMs: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** The longest duration Go can hold: 2^63-1 nanoseconds (about 2562047h), in milliseconds. */
export const maxDurationMs = Math.floor(Number(2n ** 63n - 1n) / 1e6);

/**
 * Parses a Go-style duration (`5m`, `90s`, `1h30m`, `1.5h`, `300ms`, `0`) into milliseconds, or
 * returns `undefined` when `text` is not one. A sign is not accepted: durations here are limits.
 */
export function tryParseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;

  const part = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let totalMs = 0;
  while (part.lastIndex < text.length) {
    const match = part.exec(text);
    if (match === null) return undefined;
    totalMs += Number(match[1]) * (unitMs[match[2] as string] as number);
  }
  return totalMs;
}

/** Formats milliseconds the way Go prints a duration (`5m0s`, `1h30m0s`, `300ms`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;

  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  const secondsText = `${Number(seconds.toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}
