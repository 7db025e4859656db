import { PackageURL } from 'packageurl-js';

import type { Platform } from '../image/index.js';
import { packageManagerFor, type PackageManagerKind } from '../pkgmgr/version.js';
import type { OsFamily } from '../report/index.js';

export interface PackagePurlInput {
  readonly family: OsFamily;
  readonly osVersion: string;
  readonly name: string;
  /** `[epoch:]version`; the epoch goes into the `epoch` qualifier. */
  readonly version: string;
  /** The package's own architecture (`arm64`, `all`, `x86_64`); else `platform` decides. */
  readonly arch?: string;
  readonly platform?: Platform;
}

const purlTypes: Readonly<Record<PackageManagerKind, string>> = {
  dpkg: 'deb',
  apk: 'apk',
  rpm: 'rpm',
};

/** Distribution architecture names by OCI platform (`architecture` or `architecture/variant`). */
const distroArches: Readonly<Record<PackageManagerKind, Readonly<Record<string, string>>>> = {
  dpkg: {
    amd64: 'amd64',
    arm64: 'arm64',
    'arm/v7': 'armhf',
    'arm/v6': 'armel',
    '386': 'i386',
    ppc64le: 'ppc64el',
    s390x: 's390x',
    riscv64: 'riscv64',
  },
  apk: {
    amd64: 'x86_64',
    arm64: 'aarch64',
    'arm/v7': 'armv7',
    'arm/v6': 'armhf',
    '386': 'x86',
    ppc64le: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
  },
  rpm: {
    amd64: 'x86_64',
    arm64: 'aarch64',
    'arm/v7': 'armv7hl',
    '386': 'i686',
    ppc64le: 'ppc64le',
    s390x: 's390x',
  },
};

/**
 * Returns the package URL of an OS package, as scanners write them:
 * `pkg:deb/debian/openssl@3.0.15-1~deb12u1?arch=arm64&distro=debian-12.7`,
 * `pkg:apk/alpine/libssl3@3.1.4-r5?arch=aarch64&distro=alpine-3.19.1`,
 * `pkg:rpm/redhat/openssl@1.1.1k-5.el8_5?arch=x86_64&distro=redhat-8.5&epoch=1`.
 */
export function packagePurl(input: PackagePurlInput): string {
  const manager = packageManagerFor(input.family);
  const { epoch, version } = splitEpoch(input.version);
  const arch = input.arch || distroArch(manager, input.platform);
  const qualifiers: Record<string, string> = {};
  if (arch) qualifiers.arch = arch;
  if (input.osVersion) qualifiers.distro = `${input.family}-${input.osVersion}`;
  if (epoch !== undefined && epoch !== '0') qualifiers.epoch = epoch;
  return new PackageURL(
    purlTypes[manager],
    input.family,
    input.name,
    version,
    qualifiers,
    undefined,
  ).toString();
}

function splitEpoch(text: string): { epoch?: string; version: string } {
  const match = /^(\d+):(.+)$/.exec(text);
  return match ? { epoch: match[1]!, version: match[2]! } : { version: text };
}

function distroArch(
  manager: PackageManagerKind,
  platform: Platform | undefined,
): string | undefined {
  if (platform === undefined) return undefined;
  const key =
    platform.variant && platform.architecture === 'arm'
      ? `arm/${platform.variant}`
      : platform.architecture;
  return distroArches[manager][key] ?? platform.architecture;
}

export interface ImagePurlInput {
  /** The image name: the repository's last path segment (`nginx`). */
  readonly name: string;
  readonly digest: string;
  /** Registry and repository (`ghcr.io/acme/nginx`). */
  readonly repositoryUrl?: string;
}

/** Returns the package URL of an image manifest or index, `pkg:oci/nginx@sha256:…?…`. */
export function imagePurl(input: ImagePurlInput): string {
  const qualifiers = input.repositoryUrl ? { repository_url: input.repositoryUrl } : undefined;
  return new PackageURL(
    'oci',
    undefined,
    input.name.toLowerCase(),
    input.digest,
    qualifiers,
    undefined,
  ).toString();
}
