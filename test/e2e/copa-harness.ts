/**
 * Helpers of the end-to-end tests: run the real `copa` command line, read what it wrote with
 * skopeo and umoci, and check the patched file systems with the image's own dpkg and apt in a
 * chroot (foreign architectures under QEMU through binfmt_misc).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { runCommand, testCacheDir } from '../support/debian-images.js';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

export interface CopaRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node bin/copa.js ARGS` with a reproducible time (`SOURCE_DATE_EPOCH`) and the package
 * cache under the test cache, so runs share downloads.
 */
export async function runCopa(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CopaRun> {
  const child = spawn(process.execPath, [join(root, 'bin/copa.js'), ...args], {
    cwd: root,
    env: {
      ...process.env,
      SOURCE_DATE_EPOCH: '1767225600',
      XDG_CACHE_HOME: join(testCacheDir(), 'xdg-cache'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    code,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

/** Formats a run for an assertion message. */
export function describeRun(run: CopaRun): string {
  return `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr.slice(-4000)}`;
}

/** Reads a manifest or index from a registry as JSON, with its digest. */
export async function inspectRaw(
  reference: string,
): Promise<{ json: Record<string, unknown>; digest: string }> {
  const raw = await runCommand('skopeo', [
    'inspect',
    '--raw',
    '--tls-verify=false',
    `docker://${reference}`,
  ]);
  const digest = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  return { json: JSON.parse(raw) as Record<string, unknown>, digest };
}

export interface IndexEntry {
  readonly digest: string;
  readonly mediaType: string;
  readonly platform?: { architecture: string; os: string; variant?: string };
  readonly annotations?: Record<string, string>;
}

export interface ManifestJson {
  readonly layers: readonly { digest: string }[];
  readonly config: { digest: string };
}

/**
 * Unpacks one image of a registry (`host/repo@digest`) or layout (`oci:DIR:TAG`) into a fresh
 * directory with skopeo and umoci; returns its root file system. `cleanup()` removes it.
 */
export async function unpackImage(
  source: string,
): Promise<{ rootfs: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'copa-e2e-unpack-'));
  const from = source.startsWith('oci:') ? source : `docker://${source}`;
  await runCommand('skopeo', [
    'copy',
    '--quiet',
    '--src-tls-verify=false',
    from,
    `oci:${dir}/layout:x`,
  ]);
  await runCommand('umoci', ['unpack', '--image', `${dir}/layout:x`, `${dir}/bundle`]);
  return {
    rootfs: join(dir, 'bundle', 'rootfs'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Runs a command inside `rootfs` with chroot; returns its output (stderr included). */
export async function inChroot(rootfs: string, command: readonly string[]): Promise<string> {
  return runCommand('chroot', [rootfs, ...command], {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
  });
}

/**
 * Checks a patched Debian file system with its own tools: `dpkg --audit` and `dpkg --verify`
 * report nothing, `apt-get check` passes; returns the installed versions of `packages`.
 */
export async function checkDebianRootfs(
  rootfs: string,
  packages: readonly string[],
): Promise<{ audit: string; verify: string; versions: Map<string, string> }> {
  const audit = await inChroot(rootfs, ['dpkg', '--audit']);
  const verify = await inChroot(rootfs, ['dpkg', '--verify']);
  await inChroot(rootfs, ['apt-get', 'check', '-qq']);
  const query = await inChroot(rootfs, [
    'dpkg-query',
    '-W',
    '-f',
    '${Package} ${Version}\\n',
    ...packages,
  ]);
  const versions = new Map(
    query
      .trim()
      .split('\n')
      .map((line) => line.split(' ') as [string, string]),
  );
  return { audit, verify, versions };
}

/** Reads a JSON file. */
export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}
