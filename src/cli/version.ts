import { readFileSync } from 'node:fs';
import { release } from 'node:os';

/** copa's version, from the package.json beside `src/` or `dist/`. */
export function copaVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const manifest = JSON.parse(text) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

/** The versions a bug report needs: `copa 0.1.0, node v20.19.0, linux 6.1.0 x64`. */
export function versionReport(): string {
  const os = `${process.platform} ${release()} ${process.arch}`;
  return `copa ${copaVersion()}, node ${process.version}, ${os}`;
}
