import type { Platform } from '../image/types.js';

/** Operating systems an image platform can name (Go's `GOOS` values that images use). */
export const knownOperatingSystems: readonly string[] = ['linux', 'windows', 'freebsd', 'darwin'];

/** Architectures an image platform can name (Go's `GOARCH` values that images use). */
export const knownArchitectures: readonly string[] = [
  '386',
  'amd64',
  'arm',
  'arm64',
  'loong64',
  'mips',
  'mipsle',
  'mips64',
  'mips64le',
  'ppc64',
  'ppc64le',
  'riscv64',
  's390x',
];

const variantPattern = /^[a-z0-9]+$/;

/**
 * Parses `os/arch[/variant]` (`linux/arm/v7`), or returns a reason it is not one. The text is
 * kept as typed apart from case: matching against the image (arm64 `v8` and so on) is the patch
 * code's job.
 */
export function tryParsePlatform(text: string): Platform | string {
  const [os = '', architecture = '', variant, ...rest] = text.toLowerCase().split('/');
  if (rest.length > 0 || architecture === '') return 'expected os/arch[/variant]';
  if (!knownOperatingSystems.includes(os)) {
    return `unknown os "${os}" (known: ${knownOperatingSystems.join(', ')})`;
  }
  if (!knownArchitectures.includes(architecture)) {
    return `unknown architecture "${architecture}" (known: ${knownArchitectures.join(', ')})`;
  }
  if (variant === undefined) return { os, architecture };
  if (!variantPattern.test(variant)) return `invalid variant "${variant}"`;
  return { os, architecture, variant };
}

/** Formats a platform as `os/arch[/variant]`. */
export function formatPlatform(platform: Platform): string {
  const base = `${platform.os}/${platform.architecture}`;
  return platform.variant === undefined ? base : `${base}/${platform.variant}`;
}
