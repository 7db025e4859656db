/**
 * A signed apt repository on loopback for tests: `.deb` files built with `dpkg-deb`, indexes and
 * Release files made by `apt-ftparchive`, signatures by `gpg` with a throwaway key, all served by
 * `node:http` on 127.0.0.1 with a random port.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);

/** A file of a test package: text or bytes, or an object for modes and links. */
export type FakeFile =
  | string
  | Uint8Array
  | {
      readonly content?: string | Uint8Array;
      readonly mode?: number;
      readonly symlink?: string;
      /** Path (inside the package) of a file this one is a hard link to. */
      readonly hardlink?: string;
      readonly directory?: boolean;
    };

/** A package to build. Relation fields are written verbatim into the control file. */
export interface FakePackage {
  readonly name: string;
  readonly version: string;
  /** dpkg architecture or `all` (default `amd64`). */
  readonly arch?: string;
  readonly multiArch?: 'same' | 'foreign' | 'allowed';
  readonly source?: string;
  readonly essential?: boolean;
  readonly priority?: string;
  readonly section?: string;
  readonly depends?: string;
  readonly preDepends?: string;
  readonly recommends?: string;
  readonly provides?: string;
  readonly breaks?: string;
  readonly conflicts?: string;
  readonly replaces?: string;
  /** More control fields, written after the ones above. */
  readonly control?: Readonly<Record<string, string>>;
  /** Files by path without a leading `/` (`usr/bin/hello`). */
  readonly files?: Readonly<Record<string, FakeFile>>;
  /** Absolute paths of conffiles (`/etc/hello.conf`); they must be among `files`. */
  readonly conffiles?: readonly string[];
  /** Maintainer scripts by name (`postinst`, `preinst`, `prerm`, `postrm`, `triggers`). */
  readonly scripts?: Readonly<Record<string, string>>;
  /** Compression of the `.deb` members (default `xz`). */
  readonly compression?: 'xz' | 'zstd' | 'gzip' | 'none';
  /** Suite to publish in (default: the first suite). */
  readonly suite?: string;
  /** Component to publish in (default `main`). */
  readonly component?: string;
}

/** A prebuilt `.deb` to publish. */
export interface PrebuiltDeb {
  readonly path: string;
  readonly suite?: string;
  readonly component?: string;
}

export interface AptRepositoryOptions {
  readonly packages?: readonly FakePackage[];
  readonly debs?: readonly PrebuiltDeb[];
  /** Suites (default `['stable']`); each gets `dists/<suite>`. */
  readonly suites?: readonly string[];
  /** Components of every suite (default `['main']`). */
  readonly components?: readonly string[];
  /** Architectures with `binary-<arch>` indexes (default `['amd64', 'arm64']`). */
  readonly architectures?: readonly string[];
  /** `good` (default), `none` (no signature files) or `wrong-key` (signed by another key). */
  readonly sign?: 'good' | 'none' | 'wrong-key';
  /** Index files per architecture (default all three). apt needs the plain `Packages`. */
  readonly indexCompression?: readonly ('xz' | 'gz' | 'none')[];
  /** Write `InRelease` (default true) and `Release.gpg` (default true). */
  readonly inRelease?: boolean;
  readonly releaseGpg?: boolean;
  /** Publish `by-hash/SHA256/<hex>` copies and say `Acquire-By-Hash: yes` (default false). */
  readonly byHash?: boolean;
  /** Extra Release fields per suite (`Valid-Until`, `NotAutomatic`, ...), before the hashes. */
  readonly releaseFields?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 (see `caFile`). */
  readonly tls?: boolean;
  /** URL path the repository is served at (default `/debian`). */
  readonly pathPrefix?: string;
  /** Key algorithm of the throwaway signing key (default `ed25519`). */
  readonly keyAlgorithm?: 'ed25519' | 'rsa2048' | 'rsa4096';
  /**
   * Called before a request is served; return true after answering it yourself (to inject
   * failures such as a 500 or a dropped connection).
   */
  readonly intercept?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
}

/** One request the server received. */
export interface RepositoryRequest {
  readonly method: string;
  /** The path below the repository URL (`dists/stable/InRelease`). */
  readonly path: string;
  readonly status: number;
}

export interface AptRepository {
  /** Base URI to put in sources (`http://127.0.0.1:PORT/debian`). */
  readonly url: string;
  /** Directory served at `url`; tests may change files in it to tamper with the repository. */
  readonly root: string;
  /** Binary OpenPGP public keyring of the trusted key (`.gpg`). */
  readonly keyringPath: string;
  /** The same key, ASCII-armored (`.asc`). */
  readonly armoredKeyPath: string;
  readonly armoredKey: string;
  readonly fingerprint: string;
  /** PEM certificate to trust when `tls` is set. */
  readonly caFile?: string;
  /** Every request so far, in order. */
  readonly requests: RepositoryRequest[];
  /** The published `.deb` files by file name without `.deb` (`hello_1.0-1_amd64`). */
  readonly debs: ReadonlyMap<string, string>;
  /** Rebuilds the indexes and Release files with more packages, signing again. */
  publish(packages: readonly FakePackage[], debs?: readonly PrebuiltDeb[]): Promise<void>;
  /** Signs a suite's Release file again after a test changed it. */
  resign(suite: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a repository; call `stop()` to shut the server down and remove its files. */
export async function startAptRepository(
  options: AptRepositoryOptions = {},
): Promise<AptRepository> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'copa-apt-'));
  // apt reads keyrings as its unprivileged `_apt` user: the keyring files must be readable.
  await fs.chmod(work, 0o755);
  const root = path.join(work, 'repo');
  await fs.mkdir(root, { recursive: true });
  const gpg = await createSigner(path.join(work, 'gnupg'), options);
  const state = new RepositoryBuilder(root, work, gpg, options);
  try {
    await state.publish(options.packages ?? [], options.debs ?? []);
  } catch (err) {
    await gpg.close();
    await fs.rm(work, { recursive: true, force: true });
    throw err;
  }
  const requests: RepositoryRequest[] = [];
  const prefix = `/${(options.pathPrefix ?? '/debian').replace(/^\/+|\/+$/g, '')}`;
  const listener: http.RequestListener = (req, res) => {
    if (options.intercept?.(req, res) === true) {
      requests.push({ method: req.method ?? 'GET', path: relativePath(req, prefix), status: -1 });
      return;
    }
    serveFile({ root, prefix, requests }, req, res);
  };
  const tls = options.tls === true ? await makeCertificate(work) : undefined;
  const server = tls
    ? https.createServer({ cert: tls.cert, key: tls.key }, listener)
    : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}${prefix}`,
    ...(tls && { caFile: tls.certFile }),
    root,
    keyringPath: gpg.keyringPath,
    armoredKeyPath: gpg.armoredKeyPath,
    armoredKey: gpg.armoredKey,
    fingerprint: gpg.fingerprint,
    requests,
    debs: state.debs,
    publish: (packages, debs = []) => state.publish(packages, debs),
    resign: (suite) => state.sign(suite),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gpg.close();
      await fs.rm(work, { recursive: true, force: true });
    },
  };
}

/** Makes a self-signed certificate for 127.0.0.1 with openssl. */
async function makeCertificate(
  dir: string,
): Promise<{ cert: Buffer; key: Buffer; certFile: string }> {
  const certFile = path.join(dir, 'server.crt');
  const keyFile = path.join(dir, 'server.key');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  return { cert: await fs.readFile(certFile), key: await fs.readFile(keyFile), certFile };
}

function relativePath(req: http.IncomingMessage, prefix: string): string {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const p = decodeURIComponent(url.pathname);
  return p.startsWith(`${prefix}/`) ? p.slice(prefix.length + 1) : p;
}

function serveFile(
  server: { root: string; prefix: string; requests: RepositoryRequest[] },
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  const { root, requests } = server;
  const rel = relativePath(req, server.prefix);
  const record = (status: number) =>
    requests.push({ method: req.method ?? 'GET', path: rel, status });
  const file = path.join(root, rel);
  if (rel.startsWith('/') || !file.startsWith(root + path.sep)) {
    record(404);
    res.writeHead(404).end();
    return;
  }
  fs.stat(file).then(
    (st) => {
      if (!st.isFile()) throw new Error('not a file');
      const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
      const lastModified = new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString();
      const since = req.headers['if-modified-since'];
      // RFC 9110 13.2.2: If-None-Match, when present, decides alone.
      const match = req.headers['if-none-match'];
      const notModified =
        match !== undefined
          ? match === etag
          : since !== undefined && Date.parse(since) >= Date.parse(lastModified);
      if (notModified) {
        record(304);
        res.writeHead(304, { etag, 'last-modified': lastModified }).end();
        return;
      }
      record(200);
      res.writeHead(200, {
        'content-length': st.size,
        'content-type': 'application/octet-stream',
        etag,
        'last-modified': lastModified,
      });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    },
    () => {
      record(404);
      res.writeHead(404).end();
    },
  );
}

interface Signer {
  readonly keyringPath: string;
  readonly armoredKeyPath: string;
  readonly armoredKey: string;
  readonly fingerprint: string;
  /** Writes `InRelease` and/or `Release.gpg` next to `release`. */
  sign(release: string, files: { inRelease: boolean; releaseGpg: boolean }): Promise<void>;
  close(): Promise<void>;
}

async function createSigner(home: string, options: AptRepositoryOptions): Promise<Signer> {
  await fs.mkdir(home, { recursive: true, mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: home };
  const gpg = (...args: string[]) =>
    run('gpg', ['--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
      env,
      encoding: 'buffer',
      maxBuffer: 64 << 20,
    });
  const algo = options.keyAlgorithm ?? 'ed25519';
  const trusted = await generateKey(gpg, 'copa test repository <repo@copa.invalid>', algo);
  const signing =
    options.sign === 'wrong-key'
      ? await generateKey(gpg, 'copa other key <other@copa.invalid>', algo)
      : trusted;
  const keyringPath = path.join(home, '..', 'repo-keyring.gpg');
  const armoredKeyPath = path.join(home, '..', 'repo-keyring.asc');
  await fs.writeFile(keyringPath, (await gpg('--export', trusted)).stdout);
  const armoredKey = (await gpg('--armor', '--export', trusted)).stdout.toString();
  await fs.writeFile(armoredKeyPath, armoredKey);
  return {
    keyringPath,
    armoredKeyPath,
    armoredKey,
    fingerprint: trusted,
    async sign(release, files) {
      const dir = path.dirname(release);
      if (files.inRelease) {
        await fs.rm(path.join(dir, 'InRelease'), { force: true });
        await gpg(
          '--local-user',
          signing,
          '--digest-algo',
          'SHA256',
          '--clearsign',
          '-o',
          path.join(dir, 'InRelease'),
          release,
        );
      }
      if (files.releaseGpg) {
        await fs.rm(path.join(dir, 'Release.gpg'), { force: true });
        await gpg(
          '--local-user',
          signing,
          '--digest-algo',
          'SHA256',
          '--armor',
          '--detach-sign',
          '-o',
          path.join(dir, 'Release.gpg'),
          release,
        );
      }
    },
    async close() {
      await run('gpgconf', ['--kill', 'all'], { env }).catch(() => undefined);
    },
  };
}

async function generateKey(
  gpg: (...args: string[]) => Promise<{ stdout: Buffer }>,
  uid: string,
  algo: string,
): Promise<string> {
  await gpg('--quick-generate-key', uid, algo, 'sign', 'never');
  const listing = (await gpg('--with-colons', '--list-keys', uid)).stdout.toString();
  const fpr = /^fpr:(?:[^:]*:){8}([0-9A-F]{40}):/m.exec(listing)?.[1];
  if (fpr === undefined) throw new Error(`generating a test key: no fingerprint for "${uid}"`);
  return fpr;
}

class RepositoryBuilder {
  readonly debs = new Map<string, string>();
  private readonly suites: readonly string[];
  private readonly components: readonly string[];
  private readonly architectures: readonly string[];

  constructor(
    private readonly root: string,
    private readonly work: string,
    private readonly signer: Signer,
    private readonly options: AptRepositoryOptions,
  ) {
    this.suites = options.suites ?? ['stable'];
    this.components = options.components ?? ['main'];
    this.architectures = options.architectures ?? ['amd64', 'arm64'];
  }

  async publish(packages: readonly FakePackage[], debs: readonly PrebuiltDeb[]): Promise<void> {
    for (const pkg of packages) {
      const suite = pkg.suite ?? this.suites[0]!;
      const dir = this.poolDir(suite, pkg.component ?? 'main', pkg.source ?? pkg.name);
      const deb = await buildDeb(pkg, dir, path.join(this.work, 'build'));
      this.debs.set(path.basename(deb, '.deb'), deb);
    }
    for (const prebuilt of debs) {
      const fields = await debFields(prebuilt.path);
      const suite = prebuilt.suite ?? this.suites[0]!;
      const dir = this.poolDir(suite, prebuilt.component ?? 'main', fields.source);
      await fs.mkdir(dir, { recursive: true });
      const target = path.join(dir, debFileName(fields.name, fields.version, fields.arch));
      await fs.copyFile(prebuilt.path, target);
      this.debs.set(path.basename(target, '.deb'), target);
    }
    for (const suite of this.suites) await this.writeSuite(suite);
  }

  private poolDir(suite: string, component: string, source: string): string {
    const prefix = source.startsWith('lib') ? source.slice(0, 4) : source.slice(0, 1);
    return path.join(this.root, 'pool', suite, component, prefix, source);
  }

  private async writeSuite(suite: string): Promise<void> {
    const dists = path.join(this.root, 'dists', suite);
    await fs.rm(dists, { recursive: true, force: true });
    for (const component of this.components) {
      const pool = path.join('pool', suite, component);
      await fs.mkdir(path.join(this.root, pool), { recursive: true });
      for (const arch of this.architectures) {
        const { stdout } = await run('apt-ftparchive', ['--arch', arch, 'packages', pool], {
          cwd: this.root,
          maxBuffer: 64 << 20,
        });
        await this.writeIndex(path.join(dists, component, `binary-${arch}`), stdout);
      }
    }
    await this.writeRelease(suite, dists);
    await this.sign(suite);
  }

  private async writeIndex(dir: string, text: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true });
    const kinds = this.options.indexCompression ?? ['xz', 'gz', 'none'];
    const plain = path.join(dir, 'Packages');
    await fs.writeFile(plain, text);
    if (kinds.includes('gz')) await fs.writeFile(`${plain}.gz`, gzipSync(text));
    if (kinds.includes('xz')) await run('xz', ['-k', '-f', plain]);
    if (!kinds.includes('none')) await fs.rm(plain);
    if (this.options.byHash !== true) return;
    const byHash = path.join(dir, 'by-hash', 'SHA256');
    await fs.mkdir(byHash, { recursive: true });
    for (const name of await fs.readdir(dir)) {
      if (!name.startsWith('Packages')) continue;
      const data = await fs.readFile(path.join(dir, name));
      await fs.writeFile(path.join(byHash, createHash('sha256').update(data).digest('hex')), data);
    }
  }

  private async writeRelease(suite: string, dists: string): Promise<void> {
    const prefix = 'APT::FTPArchive::Release';
    const settings = [
      `${prefix}::Origin=copa-test`,
      `${prefix}::Label=copa-test`,
      `${prefix}::Suite=${suite}`,
      `${prefix}::Codename=${suite}`,
      `${prefix}::Architectures=${this.architectures.join(' ')}`,
      `${prefix}::Components=${this.components.join(' ')}`,
      'APT::FTPArchive::Release::Default-Patterns=false',
      'APT::FTPArchive::Release::Patterns::=Packages*',
      'APT::FTPArchive::MD5=false',
      'APT::FTPArchive::SHA1=false',
      'APT::FTPArchive::SHA512=false',
    ].flatMap((s) => ['-o', s]);
    const { stdout } = await run('apt-ftparchive', [...settings, 'release', dists], {
      cwd: this.root,
      maxBuffer: 16 << 20,
    });
    const extra: Record<string, string> = { ...this.options.releaseFields?.[suite] };
    if (this.options.byHash === true) extra['Acquire-By-Hash'] = 'yes';
    const lines = Object.entries(extra).map(([k, v]) => `${k}: ${v}\n`);
    const at = stdout.search(/^(MD5Sum|SHA1|SHA256|SHA512):/m);
    const text =
      at < 0 ? stdout + lines.join('') : stdout.slice(0, at) + lines.join('') + stdout.slice(at);
    await fs.writeFile(path.join(dists, 'Release'), text);
  }

  /** Signs `dists/<suite>/Release` as the options say. */
  async sign(suite: string): Promise<void> {
    if (this.options.sign === 'none') return;
    const release = path.join(this.root, 'dists', suite, 'Release');
    await this.signer.sign(release, {
      inRelease: this.options.inRelease ?? true,
      releaseGpg: this.options.releaseGpg ?? true,
    });
  }
}

/** The file name Debian gives a `.deb`: the version without its epoch. */
export function debFileName(name: string, version: string, arch: string): string {
  const noEpoch = version.includes(':') ? version.slice(version.indexOf(':') + 1) : version;
  return `${name}_${noEpoch}_${arch}.deb`;
}

async function debFields(
  deb: string,
): Promise<{ name: string; version: string; arch: string; source: string }> {
  const { stdout } = await run('dpkg-deb', [
    '--show',
    '--showformat',
    '${Package}\\n${Version}\\n${Architecture}\\n${Source}\\n',
    deb,
  ]);
  const [name = '', version = '', arch = '', source = ''] = stdout.split('\n');
  return { name, version, arch, source: source.split(' ')[0] || name };
}

/**
 * Builds `pkg` with `dpkg-deb --build` into `outDir` and returns the `.deb` path. `scratch` is
 * a directory for the package tree (created, and emptied of it afterwards).
 */
export async function buildDeb(pkg: FakePackage, outDir: string, scratch: string): Promise<string> {
  const arch = pkg.arch ?? 'amd64';
  await fs.mkdir(scratch, { recursive: true });
  const tree = await fs.mkdtemp(path.join(scratch, `${pkg.name}-`));
  try {
    await writeTree(tree, pkg.files ?? {});
    await writeControl(tree, pkg, arch);
    await fs.mkdir(outDir, { recursive: true });
    const out = path.join(outDir, debFileName(pkg.name, pkg.version, arch));
    const z = pkg.compression ?? 'xz';
    await run('dpkg-deb', ['--root-owner-group', `-Z${z}`, '--build', tree, out]);
    return out;
  } finally {
    await fs.rm(tree, { recursive: true, force: true });
  }
}

async function writeTree(tree: string, files: Readonly<Record<string, FakeFile>>): Promise<void> {
  const links: [string, string][] = [];
  for (const [rel, file] of Object.entries(files)) {
    const target = path.join(tree, rel.replace(/^\/+/, ''));
    await fs.mkdir(path.dirname(target), { recursive: true });
    if (typeof file === 'string' || file instanceof Uint8Array) {
      await fs.writeFile(target, file);
      await fs.chmod(target, 0o644);
    } else if (file.symlink !== undefined) {
      await fs.symlink(file.symlink, target);
    } else if (file.hardlink !== undefined) {
      links.push([path.join(tree, file.hardlink.replace(/^\/+/, '')), target]);
    } else if (file.directory === true) {
      await fs.mkdir(target, { recursive: true });
      await fs.chmod(target, file.mode ?? 0o755);
    } else {
      await fs.writeFile(target, file.content ?? '');
      await fs.chmod(target, file.mode ?? 0o644);
    }
  }
  for (const [existing, link] of links) await fs.link(existing, link);
}

async function writeControl(tree: string, pkg: FakePackage, arch: string): Promise<void> {
  const debian = path.join(tree, 'DEBIAN');
  await fs.mkdir(debian, { recursive: true });
  const fields: [string, string | undefined][] = [
    ['Package', pkg.name],
    ['Source', pkg.source],
    ['Version', pkg.version],
    ['Architecture', arch],
    ['Maintainer', 'copa tests <tests@copa.invalid>'],
    ['Multi-Arch', pkg.multiArch],
    ['Essential', pkg.essential === true ? 'yes' : undefined],
    ['Priority', pkg.priority ?? 'optional'],
    ['Section', pkg.section ?? 'misc'],
    ['Pre-Depends', pkg.preDepends],
    ['Depends', pkg.depends],
    ['Recommends', pkg.recommends],
    ['Provides', pkg.provides],
    ['Breaks', pkg.breaks],
    ['Conflicts', pkg.conflicts],
    ['Replaces', pkg.replaces],
    ...Object.entries(pkg.control ?? {}),
  ];
  let text = '';
  for (const [k, v] of fields) if (v !== undefined) text += `${k}: ${v}\n`;
  if (!/^Description:/m.test(text)) text += `Description: test package ${pkg.name}\n`;
  await fs.writeFile(path.join(debian, 'control'), text);
  if (pkg.conffiles !== undefined && pkg.conffiles.length > 0) {
    await fs.writeFile(path.join(debian, 'conffiles'), pkg.conffiles.map((c) => `${c}\n`).join(''));
  }
  for (const [name, script] of Object.entries(pkg.scripts ?? {})) {
    await fs.writeFile(path.join(debian, name), script);
    await fs.chmod(path.join(debian, name), name === 'triggers' ? 0o644 : 0o755);
  }
}
