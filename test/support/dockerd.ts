/**
 * A private Docker daemon for tests: started only where Debian's docker.io package is installed
 * and we run as root, with its own data root and socket, no iptables and no bridge.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TestDaemon {
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Why no daemon can be started here, or `undefined` when one can. */
export function daemonUnavailableReason(): string | undefined {
  const installed = spawnSync('dpkg-query', ['-W', '-f=${Status}', 'docker.io'], {
    encoding: 'utf8',
  });
  if (!installed.stdout?.includes('install ok installed')) {
    return 'the docker.io package is not installed, so no Docker daemon can be started';
  }
  if (process.getuid?.() !== 0) return 'dockerd needs root';
  return undefined;
}

/** Starts dockerd and waits until its API answers (at most 60 s). */
export async function startDaemon(): Promise<TestDaemon> {
  const dir = await mkdtemp(join(tmpdir(), 'copa-dockerd-'));
  const socket = join(dir, 'docker.sock');
  const child: ChildProcess = spawn(
    'dockerd',
    [
      '--iptables=false',
      '--bridge=none',
      '--storage-driver=vfs',
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${join(dir, 'exec')}`,
      `--pidfile=${join(dir, 'dockerd.pid')}`,
      `--host=unix://${socket}`,
    ],
    { stdio: 'ignore' },
  );
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(20000)]);
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 120; i++) {
    if (existsSync(socket)) {
      const ping = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { env });
      if (ping.status === 0) return { env, stop };
    }
    if (child.exitCode !== null) break;
    await sleep(500);
  }
  await stop();
  throw new Error('starting dockerd for tests: it did not answer within 60 s');
}
