/**
 * Platforms (`os/architecture[/variant]`), normalised the way container runtimes compare them:
 * `linux/arm64` is `linux/arm64/v8`, `linux/arm` is `linux/arm/v7`, and distribution names such
 * as `aarch64` or `armhf` map to the OCI names.
 *
 * See https://github.com/opencontainers/image-spec/blob/v1.1.0/image-index.md#platform-variants
 */
import { CopaError } from '../errors.js';
import type { Platform } from './types.js';

/** Architecture aliases, with the variant they imply. */
const architectureAliases: Readonly<Record<string, { architecture: string; variant?: string }>> = {
  aarch64: { architecture: 'arm64' },
  armv8: { architecture: 'arm64' },
  x86_64: { architecture: 'amd64' },
  'x86-64': { architecture: 'amd64' },
  x64: { architecture: 'amd64' },
  i386: { architecture: '386' },
  i486: { architecture: '386' },
  i586: { architecture: '386' },
  i686: { architecture: '386' },
  x86: { architecture: '386' },
  armhf: { architecture: 'arm', variant: 'v7' },
  armv7: { architecture: 'arm', variant: 'v7' },
  armv7l: { architecture: 'arm', variant: 'v7' },
  armel: { architecture: 'arm', variant: 'v6' },
  armv6: { architecture: 'arm', variant: 'v6' },
  armv6l: { architecture: 'arm', variant: 'v6' },
  armv5: { architecture: 'arm', variant: 'v5' },
  ppc64el: { architecture: 'ppc64le' },
  riscv64gc: { architecture: 'riscv64' },
  loongarch64: { architecture: 'loong64' },
};

const osAliases: Readonly<Record<string, string>> = { macos: 'darwin', win32: 'windows' };

const partPattern = /^[a-z0-9_.-]+$/;

/**
 * Parses `os/arch[/variant]`, with an optional Windows version as `windows(10.0.17763)/amd64`.
 * An architecture alone (`arm64`) means Linux. The result is not normalised.
 *
 * Throws a `CopaError` with code `PLATFORM_UNSUPPORTED` when the text is not a platform.
 */
export function parsePlatform(text: string): Platform {
  const platform = tryParsePlatform(text);
  if (platform === undefined) {
    throw new CopaError(
      'PLATFORM_UNSUPPORTED',
      `parsing platform "${text}": not os/arch[/variant]`,
      {
        hint: 'Write the platform as os/arch or os/arch/variant, like linux/arm64 or linux/arm/v7.',
      },
    );
  }
  return platform;
}

/** Like {@link parsePlatform}, but returns `undefined` for text that is not a platform. */
export function tryParsePlatform(text: string): Platform | undefined {
  const trimmed = text.trim().toLowerCase();
  const parts = trimmed.split('/');
  if (parts.length > 3 || parts.some((p) => p === '')) return undefined;

  let osPart = parts.length === 1 ? 'linux' : (parts[0] as string);
  let osVersion: string | undefined;
  const versioned = /^([a-z0-9_-]+)\(([0-9a-z.+-]+)\)$/.exec(osPart);
  if (versioned) {
    osPart = versioned[1] as string;
    osVersion = versioned[2];
  }

  const architecture = parts.length === 1 ? parts[0] : parts[1];
  const variant = parts[2];
  if (![osPart, architecture, variant].every((p) => p === undefined || partPattern.test(p))) {
    return undefined;
  }
  return {
    os: osPart,
    architecture: architecture as string,
    ...(variant === undefined ? {} : { variant }),
    ...(osVersion === undefined ? {} : { 'os.version': osVersion }),
  };
}

/**
 * Formats a platform as `os/arch[/variant]`, with a Windows version as `windows(10.0.x)/amd64`.
 * The platform is formatted as given; normalise it first for a canonical form.
 */
export function formatPlatform(platform: Platform): string {
  const os = platform['os.version'] ? `${platform.os}(${platform['os.version']})` : platform.os;
  const base = `${os}/${platform.architecture}`;
  return platform.variant ? `${base}/${platform.variant}` : base;
}

/**
 * Returns the canonical form of a platform: OCI architecture names, lower case, the default
 * variant dropped for arm64 (`v8`) and amd64 (`v1`), and `v7` filled in for arm without one.
 * `os.version` and `os.features` are kept.
 */
export function normalizePlatform(platform: Platform): Platform {
  const os = platform.os.toLowerCase();
  const rawArch = platform.architecture.toLowerCase();
  const alias = architectureAliases[rawArch];
  const architecture = alias?.architecture ?? rawArch;
  let variant = platform.variant?.toLowerCase() || alias?.variant;

  if (architecture === 'arm64' && (variant === 'v8' || variant === '8')) variant = undefined;
  if (architecture === 'amd64' && variant === 'v1') variant = undefined;
  if (architecture === 'arm') variant = variant === undefined ? 'v7' : prefixV(variant);

  const result: { -readonly [K in keyof Platform]: Platform[K] } = {
    os: osAliases[os] ?? os,
    architecture,
  };
  if (variant !== undefined) result.variant = variant;
  if (platform['os.version'] !== undefined) result['os.version'] = platform['os.version'];
  if (platform['os.features'] !== undefined) result['os.features'] = platform['os.features'];
  return result;
}

function prefixV(variant: string): string {
  return /^[0-9]+$/.test(variant) ? `v${variant}` : variant;
}

/**
 * Reports whether two platforms are the same after normalisation: os, architecture and variant
 * equal, and `os.version` equal (absent on both, or the same text).
 */
export function platformsEqual(a: Platform, b: Platform): boolean {
  const x = normalizePlatform(a);
  const y = normalizePlatform(b);
  return (
    x.os === y.os &&
    x.architecture === y.architecture &&
    x.variant === y.variant &&
    (x['os.version'] ?? '') === (y['os.version'] ?? '')
  );
}

/**
 * Reports whether an image's platform `have` satisfies a requested platform `want`. Os,
 * architecture and variant must be equal after normalisation: there is no family matching
 * (`amd64` never matches `386`, `arm/v7` never matches `arm/v6`). When `want` names an
 * `os.version`, the Windows build (first three components, `10.0.17763`) must be equal too;
 * otherwise any `os.version` matches.
 */
export function platformMatches(want: Platform, have: Platform): boolean {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture || w.variant !== h.variant) return false;
  const wantVersion = w['os.version'];
  if (!wantVersion) return true;
  return windowsBuild(wantVersion) === windowsBuild(h['os.version'] ?? '');
}

function windowsBuild(osVersion: string): string {
  return osVersion.split('.').slice(0, 3).join('.');
}

const nodeArchitectures: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/**
 * Returns the normalised platform of the machine copa runs on, from `process.platform` and
 * `process.arch` (the ARM variant from Node's build configuration, `v7` when unknown).
 */
export function hostPlatform(): Platform {
  const os = osAliases[process.platform] ?? process.platform;
  const architecture = nodeArchitectures[process.arch] ?? process.arch;
  const armVersion = String((process.config.variables as Record<string, unknown>)['arm_version']);
  const variant =
    architecture === 'arm' && /^[0-9]+$/.test(armVersion) ? `v${armVersion}` : undefined;
  return normalizePlatform({ os, architecture, ...(variant ? { variant } : {}) });
}
