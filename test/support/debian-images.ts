/**
 * Real Debian bookworm test images, built from the Debian archive with mmdebstrap and cached on
 * disk, plus Trivy reports naming the updates bookworm-security has for them.
 *
 * The rootfs is installed from the `bookworm` suite only, so whatever bookworm-security holds
 * newer is pending; the image's apt sources name bookworm, bookworm-updates and
 * bookworm-security on this host's mirrors, as the official image does. The mirrors are read from
 * this host's apt sources, never written here.
 *
 * Everything slow is cached under `${COPA_TEST_CACHE:-/var/cache/copa-test}`: rootfs tarballs
 * (about two minutes per architecture on first use, foreign ones under QEMU), the downloaded
 * .debs, the assembled OCI layouts and the bookworm-security package indexes (refreshed daily).
 * Builds take a file lock, so concurrent test files share one build.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  readFileSync,
  readdirSync,
} from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

import { extract } from 'tar-stream';

import type { Platform } from '../../src/image/types.js';
import { compareDebianVersions } from '../../src/pkgmgr/dpkg/version.js';

/** The fixed time of the test images (2024-01-01), for reproducible rootfs tarballs and configs. */
export const sourceDateEpoch = 1704067200;

/** Changes whenever the images are built differently, so cached ones are not reused. */
const imageRevision = 2;

/** The platforms the test images are built for, in index order. */
export const debianPlatforms = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'] as const;

export type DebianPlatform = (typeof debianPlatforms)[number];

const dpkgArchOf: Record<DebianPlatform, string> = {
  'linux/amd64': 'amd64',
  'linux/arm64': 'arm64',
  'linux/arm/v7': 'armhf',
};

/** Packages of the distroless-style image, unpacked with `dpkg-deb -x`. */
export const distrolessPackages = ['base-files', 'libc6', 'libssl3', 'tzdata', 'ca-certificates'];

export interface HostMirrors {
  /** Base URI of the Debian archive (`dists/bookworm` below it). */
  readonly debian: string;
  /** Base URI of the security archive (`dists/bookworm-security` below it). */
  readonly security: string;
}

export interface DebianImageOptions {
  /** Platforms to include, in this order; default all of {@link debianPlatforms}. */
  readonly platforms?: readonly DebianPlatform[];
  /** Default `${COPA_TEST_CACHE:-/var/cache/copa-test}`. */
  readonly cacheDir?: string;
  /** Called with one line per slow step. */
  readonly log?: (line: string) => void;
}

export interface DebianImageManifest {
  readonly platform: Platform;
  readonly dpkgArch: string;
  /** Digest of the platform's image manifest. */
  readonly digest: string;
  /** The uncompressed rootfs tarball its single layer was made from. */
  readonly rootfsTar: string;
}

/**
 * An OCI image layout holding one multi-platform image. The layout lives in the cache: treat it
 * as read-only (copy it before changing anything).
 */
export interface DebianImageLayout {
  readonly layoutDir: string;
  readonly tag: string;
  /** `oci:<layoutDir>:<tag>`, as skopeo and copa name it. */
  readonly reference: string;
  /** Digest of the image index the tag points at. */
  readonly indexDigest: string;
  readonly manifests: readonly DebianImageManifest[];
}

/** Returns the cache directory of the test images. */
export function testCacheDir(): string {
  return process.env.COPA_TEST_CACHE || '/var/cache/copa-test';
}

/** Returns the platform a `linux/...` string names. */
export function toPlatform(platform: DebianPlatform): Platform {
  const [os = 'linux', architecture = '', variant] = platform.split('/');
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/**
 * Reads the Debian and security archive URIs from this host's apt sources
 * (`/etc/apt/sources.list.d/*.sources` in deb822 form, then `*.list` and `/etc/apt/sources.list`).
 */
export function readHostMirrors(): HostMirrors {
  const entries = readAptSourceEntries();
  const debian = entries.find((e) => e.suites.includes('bookworm'))?.uri;
  const security = entries.find((e) => e.suites.includes('bookworm-security'))?.uri;
  if (debian === undefined || security === undefined) {
    throw new Error(
      'reading host apt sources: no "bookworm" and "bookworm-security" suites found in ' +
        '/etc/apt/sources.list.d or /etc/apt/sources.list',
    );
  }
  return { debian: debian.replace(/\/+$/, ''), security: security.replace(/\/+$/, '') };
}

interface AptSourceEntry {
  readonly uri: string;
  readonly suites: readonly string[];
}

function readAptSourceEntries(): AptSourceEntry[] {
  const dir = '/etc/apt/sources.list.d';
  const files = existsSync(dir) ? readdirSync(dir).sort() : [];
  const entries: AptSourceEntry[] = [];
  for (const name of files.filter((f) => f.endsWith('.sources'))) {
    entries.push(...parseDeb822Sources(readFileSync(join(dir, name), 'utf8')));
  }
  const lists = files.filter((f) => f.endsWith('.list')).map((f) => join(dir, f));
  for (const path of [...lists, '/etc/apt/sources.list'].filter((p) => existsSync(p))) {
    entries.push(...parseOneLineSources(readFileSync(path, 'utf8')));
  }
  return entries;
}

function parseDeb822Sources(text: string): AptSourceEntry[] {
  const entries: AptSourceEntry[] = [];
  for (const fields of parseParagraphs(text)) {
    if (!(fields.get('Types') ?? '').split(/\s+/).includes('deb')) continue;
    if ((fields.get('Enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const suites = (fields.get('Suites') ?? '').split(/\s+/).filter(Boolean);
    for (const uri of (fields.get('URIs') ?? '').split(/\s+/).filter(Boolean)) {
      entries.push({ uri, suites });
    }
  }
  return entries;
}

function parseOneLineSources(text: string): AptSourceEntry[] {
  const entries: AptSourceEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw
      .replace(/#.*/, '')
      .replace(/\[[^\]]*\]/, ' ')
      .trim();
    const [type, uri, suite] = line.split(/\s+/);
    if (type === 'deb' && uri !== undefined && suite !== undefined) {
      entries.push({ uri, suites: [suite] });
    }
  }
  return entries;
}

/** Parses deb822 paragraphs (control files, Packages indexes, status files). */
export function parseParagraphs(text: string): Map<string, string>[] {
  const paragraphs: Map<string, string>[] = [];
  let current = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    if (line.trim() === '') {
      if (current.size > 0) paragraphs.push(current);
      current = new Map();
      last = undefined;
    } else if (/^\s/.test(line) && last !== undefined) {
      current.set(last, `${current.get(last) ?? ''}\n${line.trim()}`);
    } else {
      const colon = line.indexOf(':');
      last = line.slice(0, colon);
      current.set(last, line.slice(colon + 1).trim());
    }
  }
  if (current.size > 0) paragraphs.push(current);
  return paragraphs;
}

/** Runs a command, failing with its stderr when it exits non-zero; returns its stdout. */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<string> {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  child.stdin?.on('error', () => {});
  child.stdin?.end(options.input);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    const tail = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-15).join('\n');
    throw new Error(`running "${command} ${args.join(' ')}": exit code ${code}\n${tail}`);
  }
  return Buffer.concat(out).toString('utf8');
}

/** The deb822 apt sources written into the images, pointing at this host's mirrors. */
function imageAptSources(mirrors: HostMirrors): string {
  const keyring = 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg';
  return [
    `Types: deb\nURIs: ${mirrors.debian}\nSuites: bookworm bookworm-updates`,
    `Components: main\n${keyring}\n`,
    `Types: deb\nURIs: ${mirrors.security}\nSuites: bookworm-security`,
    `Components: main\n${keyring}\n`,
  ].join('\n');
}

/**
 * Returns the path of the cached rootfs tarball of a bookworm minbase system with openssl and
 * ca-certificates for `dpkgArch`, building it with mmdebstrap on first use. The .debs installed
 * are kept in `<cacheDir>/debian/debs-<arch>/` for the distroless image.
 */
export async function buildDebianRootfs(
  dpkgArch: string,
  options: { cacheDir?: string; log?: (line: string) => void } = {},
): Promise<string> {
  const dir = join(options.cacheDir ?? testCacheDir(), 'debian');
  const out = join(dir, `bookworm-minbase-${dpkgArch}-r${imageRevision}.tar`);
  if (existsSync(out)) return out;
  await mkdir(dir, { recursive: true });
  const mirrors = readHostMirrors();
  const sourcesFile = join(dir, 'debian.sources');
  await writeFile(sourcesFile, imageAptSources(mirrors));
  const debs = join(dir, `debs-${dpkgArch}`);
  const tmp = `${out}.${randomBytes(4).toString('hex')}.tmp`;
  options.log?.(`building the bookworm rootfs for "${dpkgArch}" with mmdebstrap`);
  const mmdebstrap = [
    'mmdebstrap --quiet --variant=minbase --format=tar --include=openssl,ca-certificates',
    `  --architectures="$ARCH" --skip=essential/unlink --skip=output/mknod`,
    `  --customize-hook="sync-out /var/cache/apt/archives $DEBS"`,
    `  --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb "$1"/etc/apt/sources.list'`,
    `  --customize-hook="upload $SOURCES /etc/apt/sources.list.d/debian.sources"`,
    `  bookworm "$TMP" "deb $MIRROR bookworm main"`,
  ].join(' \\\n');
  const script = [
    `if [ -e "$OUT" ]; then exit 0; fi`,
    `rm -rf "$DEBS" && mkdir -p "$DEBS"`,
    mmdebstrap,
    `mv "$TMP" "$OUT"`,
  ].join('\n');
  const env = {
    ...process.env,
    SOURCE_DATE_EPOCH: String(sourceDateEpoch),
    OUT: out,
    TMP: tmp,
    DEBS: debs,
    ARCH: dpkgArch,
    SOURCES: sourcesFile,
    MIRROR: mirrors.debian,
  };
  try {
    await runCommand('flock', [`${out}.lock`, 'sh', '-ec', script], { env });
  } finally {
    await rm(tmp, { force: true });
  }
  return out;
}

/**
 * Returns the cached rootfs tarball of a distroless-style image for `dpkgArch`: the files of
 * {@link distrolessPackages} unpacked with `dpkg-deb -x`, their control data in
 * `var/lib/dpkg/status.d/<name>` (and `<name>.md5sums`), no apt and no apt sources.
 */
export async function buildDistrolessRootfs(
  dpkgArch: string,
  options: { cacheDir?: string; log?: (line: string) => void } = {},
): Promise<string> {
  const cacheDir = options.cacheDir ?? testCacheDir();
  const out = join(cacheDir, 'debian', `bookworm-distroless-${dpkgArch}-r${imageRevision}.tar`);
  if (existsSync(out)) return out;
  await buildDebianRootfs(dpkgArch, options);
  const debsDir = join(cacheDir, 'debian', `debs-${dpkgArch}`);
  const names = await readdir(debsDir);
  const root = await mkdtemp(join(tmpdir(), 'copa-distroless-'));
  try {
    const statusDir = join(root, 'var/lib/dpkg/status.d');
    await mkdir(statusDir, { recursive: true });
    for (const pkg of distrolessPackages) {
      const deb = names.find((n) => n.startsWith(`${pkg}_`) && n.endsWith('.deb'));
      if (deb === undefined) throw new Error(`building distroless rootfs: no .deb of "${pkg}"`);
      await unpackDistrolessPackage(join(debsDir, deb), pkg, root);
    }
    const tmp = `${out}.${randomBytes(4).toString('hex')}.tmp`;
    await runCommand('tar', [...deterministicTarOptions(), '-C', root, '-cf', tmp, '.']);
    await rename(tmp, out);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return out;
}

function deterministicTarOptions(): string[] {
  return [
    '--sort=name',
    `--mtime=@${sourceDateEpoch}`,
    '--clamp-mtime',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
  ];
}

async function unpackDistrolessPackage(deb: string, pkg: string, root: string): Promise<void> {
  await runCommand('dpkg-deb', ['-x', deb, root]);
  const control = await runCommand('dpkg-deb', ['-f', deb]);
  const statusDir = join(root, 'var/lib/dpkg/status.d');
  await writeFile(join(statusDir, pkg), control.endsWith('\n') ? control : `${control}\n`);
  const ctrl = await mkdtemp(join(tmpdir(), 'copa-ctrl-'));
  try {
    await runCommand('dpkg-deb', ['-e', deb, ctrl]);
    if (existsSync(join(ctrl, 'md5sums'))) {
      await writeFile(join(statusDir, `${pkg}.md5sums`), await readFile(join(ctrl, 'md5sums')));
    }
  } finally {
    await rm(ctrl, { recursive: true, force: true });
  }
}

/**
 * Returns the cached three-platform (or `platforms`) bookworm image as an OCI layout with tag
 * `bookworm`: one gzip layer per platform, OCI media types, config architecture/os/variant set.
 */
export async function buildDebianImageLayout(
  options: DebianImageOptions = {},
): Promise<DebianImageLayout> {
  return buildLayout('debian', options, buildDebianRootfs);
}

/** Like {@link buildDebianImageLayout}, for the distroless-style image (tag `bookworm`). */
export async function buildDistrolessImageLayout(
  options: DebianImageOptions = {},
): Promise<DebianImageLayout> {
  return buildLayout('distroless', options, buildDistrolessRootfs);
}

type RootfsBuilder = typeof buildDebianRootfs;

async function buildLayout(
  flavor: string,
  options: DebianImageOptions,
  buildRootfs: RootfsBuilder,
): Promise<DebianImageLayout> {
  const cacheDir = options.cacheDir ?? testCacheDir();
  const platforms = options.platforms ?? debianPlatforms;
  const tag = 'bookworm';
  const key = platforms.map((p) => dpkgArchOf[p]).join('-');
  const layoutDir = join(cacheDir, 'layouts', `${flavor}-bookworm-${key}-r${imageRevision}`);
  const tars = await Promise.all(
    platforms.map((p) => buildRootfs(dpkgArchOf[p], { cacheDir, log: options.log })),
  );
  const donePath = join(layoutDir, '.complete.json');
  if (!existsSync(donePath)) {
    await mkdir(join(cacheDir, 'layouts'), { recursive: true });
    await withFileLock(`${layoutDir}.lock`, async () => {
      if (existsSync(donePath)) return;
      options.log?.(`assembling the ${flavor} OCI layout "${layoutDir}"`);
      const result = await writeLayout(layoutDir, tag, platforms, tars, flavor);
      await writeFile(donePath, JSON.stringify(result));
    });
  }
  const done = JSON.parse(await readFile(donePath, 'utf8')) as Omit<DebianImageLayout, 'layoutDir'>;
  return { ...done, layoutDir, reference: `oci:${layoutDir}:${tag}` };
}

/** Runs `fn` while holding an exclusive lock on `path` (a lock file held by a `flock` child). */
async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const holder = spawn('flock', [path, 'sh', '-c', 'echo locked; read _'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    holder.on('error', reject);
    holder.stdout.once('data', () => resolve());
  });
  try {
    return await fn();
  } finally {
    holder.stdin.end('\n');
    await new Promise((resolve) => holder.on('close', resolve));
  }
}

async function writeLayout(
  layoutDir: string,
  tag: string,
  platforms: readonly DebianPlatform[],
  tars: readonly string[],
  flavor: string,
): Promise<Omit<DebianImageLayout, 'layoutDir'>> {
  await rm(layoutDir, { recursive: true, force: true });
  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(layoutDir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const manifests: DebianImageManifest[] = [];
  for (const [i, name] of platforms.entries()) {
    const rootfsTar = tars[i] as string;
    const platform = toPlatform(name);
    const layer = await writeLayerBlob(layoutDir, rootfsTar);
    const config = imageConfig(platform, layer.diffId, flavor);
    const configDesc = await writeJsonBlob(
      layoutDir,
      config,
      'application/vnd.oci.image.config.v1+json',
    );
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: configDesc,
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: layer.digest,
          size: layer.size,
        },
      ],
    };
    const desc = await writeJsonBlob(layoutDir, manifest, manifest.mediaType);
    manifests.push({ platform, dpkgArch: dpkgArchOf[name], digest: desc.digest, rootfsTar });
  }
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: await Promise.all(
      manifests.map(async (m) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: m.digest,
        size: (await stat(blobPath(layoutDir, m.digest))).size,
        platform: m.platform,
      })),
    ),
  };
  const indexDesc = await writeJsonBlob(layoutDir, index, index.mediaType);
  const top = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ ...indexDesc, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  };
  await writeFile(join(layoutDir, 'index.json'), JSON.stringify(top));
  return { tag, reference: '', indexDigest: indexDesc.digest, manifests };
}

function imageConfig(platform: Platform, diffId: string, flavor: string): object {
  const created = new Date(sourceDateEpoch * 1000).toISOString();
  const createdBy =
    flavor === 'debian'
      ? 'mmdebstrap --variant=minbase --include=openssl,ca-certificates bookworm'
      : `dpkg-deb -x ${distrolessPackages.join(' ')}`;
  return {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant === undefined ? {} : { variant: platform.variant }),
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ...(flavor === 'debian' ? { Cmd: ['bash'] } : {}),
    },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: createdBy }],
  };
}

function blobPath(layoutDir: string, digest: string): string {
  return join(layoutDir, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
}

async function writeJsonBlob(
  layoutDir: string,
  value: object,
  mediaType: string,
): Promise<{ mediaType: string; digest: string; size: number }> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await writeFile(blobPath(layoutDir, digest), bytes);
  return { mediaType, digest, size: bytes.length };
}

/** Gzips a tarball into the layout, hashing both sides in one pass. */
async function writeLayerBlob(
  layoutDir: string,
  tarPath: string,
): Promise<{ digest: string; diffId: string; size: number }> {
  const diffHash = createHash('sha256');
  const blobHash = createHash('sha256');
  let size = 0;
  const tmp = join(layoutDir, 'blobs', `.layer-${randomBytes(4).toString('hex')}`);
  const tap = (hash: ReturnType<typeof createHash>, count: boolean): Transform =>
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        if (count) size += chunk.length;
        done(null, chunk);
      },
    });
  await pipeline(
    createReadStream(tarPath),
    tap(diffHash, false),
    createGzip({ level: 6 }),
    tap(blobHash, true),
    createWriteStream(tmp),
  );
  const digest = `sha256:${blobHash.digest('hex')}`;
  await rename(tmp, blobPath(layoutDir, digest));
  return { digest, diffId: `sha256:${diffHash.digest('hex')}`, size };
}

/**
 * Copies every platform of the layout image to a registry with `skopeo copy --all`.
 * `destination` is `host:port/repo:tag`.
 */
export async function pushLayoutToRegistry(
  layout: Pick<DebianImageLayout, 'reference'>,
  destination: string,
  options: { tlsVerify?: boolean; certDir?: string; creds?: string } = {},
): Promise<void> {
  const args = ['copy', '--quiet', '--all', '--preserve-digests'];
  args.push(`--dest-tls-verify=${options.tlsVerify ?? false}`);
  if (options.certDir !== undefined) args.push('--dest-cert-dir', options.certDir);
  if (options.creds !== undefined) args.push('--dest-creds', options.creds);
  await runCommand('skopeo', [...args, layout.reference, `docker://${destination}`]);
}

/** One installed Debian package, as dpkg's status database records it. */
export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
  readonly arch: string;
  readonly source: string;
}

/**
 * Reads the installed packages from a rootfs tarball: `var/lib/dpkg/status` (entries in state
 * "install ok installed") and distroless `var/lib/dpkg/status.d/*`. Also returns `debian_version`.
 */
export async function readRootfsPackages(
  rootfsTar: string,
): Promise<{ packages: InstalledPackage[]; debianVersion: string }> {
  const files = await readTarFiles(rootfsTar, (p) =>
    /^var\/lib\/dpkg\/(status|status\.d\/[^/]+)$|^etc\/debian_version$/.test(p),
  );
  const packages: InstalledPackage[] = [];
  for (const [path, text] of files) {
    if (path === 'etc/debian_version' || path.endsWith('.md5sums')) continue;
    for (const p of parseParagraphs(text)) {
      const status = p.get('Status');
      if (status !== undefined && status !== 'install ok installed') continue;
      const name = p.get('Package') ?? '';
      const source = (p.get('Source') ?? name).split(' ')[0] ?? name;
      packages.push({
        name,
        version: p.get('Version') ?? '',
        arch: p.get('Architecture') ?? '',
        source,
      });
    }
  }
  packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { packages, debianVersion: (files.get('etc/debian_version') ?? '').trim() };
}

async function readTarFiles(
  tarPath: string,
  select: (path: string) => boolean,
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const ex = extract();
  const done = pipeline(createReadStream(tarPath), ex);
  for await (const entry of ex) {
    const path = entry.header.name.replace(/^(\.\/|\/)+/, '');
    if (entry.header.type === 'file' && select(path)) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      files.set(path, Buffer.concat(chunks).toString('utf8'));
    } else {
      entry.resume();
    }
  }
  await done;
  return files;
}

/** The newest version of each package in bookworm-security for one architecture. */
export async function readSecurityPackages(
  dpkgArch: string,
  options: { cacheDir?: string } = {},
): Promise<Map<string, { version: string; arch: string }>> {
  const dir = join(options.cacheDir ?? testCacheDir(), 'debian');
  const path = join(dir, `bookworm-security-${dpkgArch}-Packages`);
  const fresh = existsSync(path) && Date.now() - (await stat(path)).mtimeMs < 86_400_000;
  if (!fresh) {
    await mkdir(dir, { recursive: true });
    const url = `${readHostMirrors().security}/dists/bookworm-security/main/binary-${dpkgArch}/Packages.xz`;
    const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    await runCommand('sh', ['-ec', 'curl -fsSL "$URL" | xz -dc > "$TMP"'], {
      env: { ...process.env, URL: url, TMP: tmp },
    });
    await rename(tmp, path);
  }
  const latest = new Map<string, { version: string; arch: string }>();
  for (const p of parseParagraphs(await readFile(path, 'utf8'))) {
    const name = p.get('Package');
    const version = p.get('Version');
    if (name === undefined || version === undefined) continue;
    const seen = latest.get(name);
    if (seen === undefined || compareDebianVersions(version, seen.version) > 0) {
      latest.set(name, { version, arch: p.get('Architecture') ?? dpkgArch });
    }
  }
  return latest;
}

/** One pending update: an installed package that bookworm-security has a newer version of. */
export interface PendingUpdate extends InstalledPackage {
  readonly fixedVersion: string;
}

/** Lists the installed packages of a rootfs that bookworm-security has newer versions of. */
export async function findPendingUpdates(
  rootfsTar: string,
  dpkgArch: string,
  options: { cacheDir?: string } = {},
): Promise<{ updates: PendingUpdate[]; debianVersion: string }> {
  const { packages, debianVersion } = await readRootfsPackages(rootfsTar);
  const security = await readSecurityPackages(dpkgArch, options);
  const updates: PendingUpdate[] = [];
  for (const pkg of packages) {
    const candidate = security.get(pkg.name);
    if (candidate !== undefined && compareDebianVersions(candidate.version, pkg.version) > 0) {
      updates.push({ ...pkg, fixedVersion: candidate.version });
    }
  }
  return { updates, debianVersion };
}

export interface TrivyReportOptions {
  readonly image: DebianImageLayout;
  /** Platforms to write reports for; default every platform of the image. */
  readonly platforms?: readonly DebianPlatform[];
  readonly outDir: string;
  readonly cacheDir?: string;
  /** Changes the updates of a platform before the report is written (to ask for a bad version). */
  readonly edit?: (platform: Platform, updates: PendingUpdate[]) => PendingUpdate[];
}

export interface TrivyReportFile {
  readonly path: string;
  readonly platform: Platform;
  readonly updates: readonly PendingUpdate[];
}

/** Returns the placeholder vulnerability id of a package's pending security update. */
export function vulnerabilityIdOf(update: Pick<InstalledPackage, 'source'>): string {
  return `DEBIAN-SECURITY-${update.source.toUpperCase()}`;
}

/**
 * Writes one Trivy schema-2 report per platform (`<outDir>/linux-<arch>[-<variant>].json`) naming
 * the platform's pending bookworm-security updates, each as a vulnerability with a placeholder id
 * from {@link vulnerabilityIdOf}.
 */
export async function writeTrivyReports(options: TrivyReportOptions): Promise<TrivyReportFile[]> {
  await mkdir(options.outDir, { recursive: true });
  const wanted = options.platforms?.map(toPlatform);
  const files: TrivyReportFile[] = [];
  for (const m of options.image.manifests) {
    if (wanted !== undefined && !wanted.some((w) => samePlatform(w, m.platform))) continue;
    const found = await findPendingUpdates(m.rootfsTar, m.dpkgArch, options);
    const updates = options.edit ? options.edit(m.platform, found.updates) : found.updates;
    const report = trivyReport(m.platform, found.debianVersion, updates);
    const name = ['linux', m.platform.architecture, m.platform.variant].filter(Boolean).join('-');
    const path = join(options.outDir, `${name}.json`);
    await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
    files.push({ path, platform: m.platform, updates });
  }
  return files;
}

function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && a.variant === b.variant;
}

function trivyReport(platform: Platform, debianVersion: string, updates: readonly PendingUpdate[]) {
  const distro = `debian-${debianVersion}`;
  return {
    SchemaVersion: 2,
    ArtifactName: 'demo/debian:bookworm',
    ArtifactType: 'container_image',
    Metadata: {
      OS: { Family: 'debian', Name: debianVersion },
      ImageConfig: {
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant === undefined ? {} : { variant: platform.variant }),
      },
    },
    Results: [
      {
        Target: `demo/debian:bookworm (debian ${debianVersion})`,
        Class: 'os-pkgs',
        Type: 'debian',
        Vulnerabilities: updates.map((u) => ({
          VulnerabilityID: vulnerabilityIdOf(u),
          PkgID: `${u.name}@${u.version}`,
          PkgName: u.name,
          PkgIdentifier: {
            PURL: `pkg:deb/debian/${u.name}@${encodeURIComponent(u.version)}?arch=${u.arch}&distro=${distro}`,
          },
          InstalledVersion: u.version,
          FixedVersion: u.fixedVersion,
          Status: 'fixed',
          Severity: 'HIGH',
        })),
      },
    ],
  };
}
