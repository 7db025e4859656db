import { basename, extname } from 'node:path';

import { normalizePlatform, type Platform } from '../image/index.js';

const architectures = new Set([
  'amd64',
  'arm64',
  'arm',
  '386',
  'ppc64le',
  's390x',
  'riscv64',
  'mips64le',
  'mips64',
  'loong64',
  'aarch64',
  'armhf',
  'armel',
  'armv6',
  'armv7',
  'armv7l',
  'i386',
  'i686',
  'ppc64el',
]);
const operatingSystems = new Set(['linux', 'windows', 'freebsd']);

/**
 * Reads a platform from a report's file name: `linux-arm64.json`, `arm64.json`,
 * `linux-arm-v7.json`, `scan_linux_amd64.json`, `report.x86_64.json`. The first part naming an
 * architecture counts; the part before it may name the OS (Linux otherwise) and the part after it
 * the variant. Returns the normalised platform, or `undefined` when no part names an
 * architecture.
 */
export function platformFromFileName(fileName: string): Platform | undefined {
  const stem = basename(fileName, extname(fileName))
    .toLowerCase()
    .replace(/x86[_-]64/g, 'amd64');
  const parts = stem.split(/[-_.\s]+/);
  const index = parts.findIndex((p) => architectures.has(p));
  if (index < 0) return undefined;
  const before = parts[index - 1];
  const after = parts[index + 1];
  const variant = after !== undefined && /^v[0-9]+$/.test(after) ? after : undefined;
  return normalizePlatform({
    os: before !== undefined && operatingSystems.has(before) ? before : 'linux',
    architecture: parts[index]!,
    ...(variant ? { variant } : {}),
  });
}
