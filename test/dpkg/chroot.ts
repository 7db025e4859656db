/**
 * Running the real dpkg and apt tools inside an unpacked root file system, to check what the
 * patch left behind. Foreign architectures run through qemu-user-static's binfmt handlers.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The result of one command. */
export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command, resolving with its exit code and output (never rejects on exit codes). */
export function run(command: string, args: readonly string[]): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

/** Runs a shell command in `root` with chroot; PATH set as in a Debian image. */
export function inChroot(root: string, script: string): Promise<CommandResult> {
  return run('chroot', [
    root,
    '/usr/bin/env',
    '-i',
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    'DEBIAN_FRONTEND=noninteractive',
    'sh',
    '-c',
    script,
  ]);
}

/** Like {@link inChroot}, with the host's /dev bound inside (apt and dpkg need /dev/null). */
export async function inChrootWithDev(root: string, script: string): Promise<CommandResult> {
  await mkdir(join(root, 'dev'), { recursive: true });
  const mounted = await run('mount', ['--bind', '/dev', join(root, 'dev')]);
  if (mounted.code !== 0) throw new Error(`binding /dev into "${root}": ${mounted.stderr}`);
  try {
    return await inChroot(root, script);
  } finally {
    await run('umount', ['-l', join(root, 'dev')]);
  }
}

/** Unpacks a tarball into a new private directory (owners kept: tests run as root). */
export async function unpackRootfs(tarball: string, prefix = 'copa-dpkg-root-'): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const r = await run('tar', ['-xf', tarball, '-C', root, '--numeric-owner']);
  if (r.code !== 0) throw new Error(`unpacking "${tarball}": ${r.stderr}`);
  await mkdir(join(root, 'dev'), { recursive: true });
  return root;
}

/** Copies a root file system to a new private directory, hard links and owners kept. */
export async function copyRootfs(root: string): Promise<string> {
  const copy = await mkdtemp(join(tmpdir(), 'copa-dpkg-copy-'));
  const r = await run('cp', ['-a', `${root}/.`, copy]);
  if (r.code !== 0) throw new Error(`copying "${root}": ${r.stderr}`);
  return copy;
}

/**
 * Removes a root file system made by {@link unpackRootfs} or {@link copyRootfs}. Anything still
 * mounted below it (a bound /dev) is unmounted first; if that fails the root is left in place
 * rather than deleting through the mount.
 */
export async function removeRootfs(root: string | undefined): Promise<void> {
  if (root === undefined) return;
  const mounted = async () =>
    (await readFile('/proc/mounts', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m === root || m.startsWith(`${root}/`));
  for (const m of (await mounted()).reverse()) await run('umount', ['-l', m]);
  if ((await mounted()).length > 0) return;
  await rm(root, { recursive: true, force: true });
}

/** Reports whether binaries of `dpkgArch` can run here (natively or through binfmt). */
export async function canRun(dpkgArch: string): Promise<boolean> {
  const native = (await run('dpkg', ['--print-architecture'])).stdout.trim();
  if (dpkgArch === native) return true;
  const qemu = { arm64: 'qemu-aarch64', armhf: 'qemu-arm' }[dpkgArch];
  if (qemu === undefined) return false;
  if (!existsSync(`/proc/sys/fs/binfmt_misc/${qemu}`)) {
    await run('update-binfmts', ['--enable', qemu]);
  }
  return existsSync(`/proc/sys/fs/binfmt_misc/${qemu}`);
}
