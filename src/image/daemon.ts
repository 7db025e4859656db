/**
 * The local image store of a Docker or Podman daemon, reached through its command line
 * (`docker load`, `docker save`), so the CLI's own configuration (context, `DOCKER_HOST`,
 * rootless Podman) applies.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { CopaError, wrapError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { readDockerArchive } from './docker-archive.js';
import type { ByteStream, Image } from './types.js';

export type Loader = 'docker' | 'podman';

export interface DaemonOptions {
  loader: Loader;
  /** The CLI to run; defaults to the loader's name, found on `PATH`. */
  command?: string;
  /** Environment of the CLI (`DOCKER_HOST`, `CONTAINER_HOST`); defaults to this process's. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  signal?: AbortSignal;
}

const stderrLimitBytes = 8192;

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the loader's CLI, feeding `input` to its stdin; never throws for a non-zero exit. */
async function runCli(
  options: DaemonOptions,
  args: readonly string[],
  input?: ByteStream,
): Promise<RunResult> {
  const command = options.command ?? options.loader;
  const child = spawn(command, args, {
    stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    signal: options.signal,
    env: options.env ?? process.env,
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let stderrBytes = 0;
  child.stdout?.on('data', (c: Buffer) => stdout.push(c));
  child.stderr?.on('data', (c: Buffer) => {
    if (stderrBytes < stderrLimitBytes) stderr.push(c);
    stderrBytes += c.byteLength;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const feeding =
    input && child.stdin ? pipeline(Readable.from(input), child.stdin) : Promise.resolve();
  const [code, inputError] = await Promise.all([
    exited,
    feeding.then(
      () => undefined,
      (e) => e,
    ),
  ]);
  // A failing input is the real cause; a broken pipe only means the CLI stopped reading.
  if (inputError instanceof Error && (inputError as NodeJS.ErrnoException).code !== 'EPIPE') {
    throw inputError;
  }
  return {
    code,
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8').slice(0, stderrLimitBytes).trim(),
  };
}

function unavailable(options: DaemonOptions, action: string, cause: unknown): CopaError {
  const command = options.command ?? options.loader;
  return new CopaError('DAEMON_UNAVAILABLE', `${action}: "${command}" cannot be run`, {
    cause,
    hint: `Install the ${options.loader} CLI, or write the result with --oci-dir or --push instead.`,
  });
}

/**
 * Reports whether the loader's daemon answers (`docker version` reaching the server, or
 * `podman version`). Never throws.
 */
export async function isDaemonReachable(
  loader: Loader,
  options: Omit<DaemonOptions, 'loader'> = {},
): Promise<boolean> {
  const args = loader === 'docker' ? ['version', '--format', '{{.Server.Version}}'] : ['version'];
  try {
    const result = await runCli({ ...options, loader }, args);
    return result.code === 0 && result.stdout.trim() !== '';
  } catch {
    return false;
  }
}

/**
 * Loads a Docker archive (a file path or a stream) into the daemon with `docker load` or
 * `podman load`, and returns the names the CLI reported as loaded.
 *
 * Throws a `CopaError` with code `DAEMON_UNAVAILABLE` when the CLI cannot be run, or
 * `DAEMON_ERROR` with the CLI's message when the load fails.
 */
export async function loadIntoDaemon(
  archive: string | ByteStream,
  options: DaemonOptions,
): Promise<string[]> {
  const input = typeof archive === 'string' ? createReadStream(archive) : archive;
  let result: RunResult;
  try {
    result = await runCli(options, ['load'], input);
  } catch (err) {
    if (err instanceof CopaError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw unavailable(options, 'loading image into the daemon', err);
    }
    throw wrapError('loading image into the daemon', err, 'DAEMON_ERROR');
  }
  if (result.code !== 0) {
    throw new CopaError(
      'DAEMON_ERROR',
      `loading image with "${options.loader} load": ${result.stderr || `exit code ${result.code}`}`,
      { hint: `Check that the ${options.loader} daemon runs and that you may use it.` },
    );
  }
  const loaded = [...result.stdout.matchAll(/^Loaded image(?:\(s\)| ID)?: (.+)$/gm)].map((m) =>
    (m[1] as string).trim(),
  );
  (options.logger ?? silentLogger).debug(`loaded ${loaded.map((l) => `"${l}"`).join(', ')}`);
  return loaded;
}

/**
 * Returns an image from the daemon's store, saved with `docker save` (or `podman save`) into a
 * Docker archive under `workDir`. The archive stays there for the image's lifetime; the caller
 * removes `workDir` when done.
 *
 * Throws `DAEMON_UNAVAILABLE` when the CLI cannot be run, `DAEMON_ERROR` when the save fails
 * (the image is not in the store, say).
 */
export async function imageFromDaemon(
  reference: string,
  options: DaemonOptions & { workDir: string },
): Promise<Image> {
  const dir = await mkdtemp(join(options.workDir, 'daemon-'));
  const archive = join(dir, 'image.tar');
  const args =
    options.loader === 'podman'
      ? ['save', '--format', 'docker-archive', '-o', archive, reference]
      : ['save', '-o', archive, reference];
  let result: RunResult;
  try {
    result = await runCli(options, args);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw unavailable(options, `saving "${reference}" from the daemon`, err);
  }
  if (result.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new CopaError(
      'DAEMON_ERROR',
      `saving "${reference}" from the daemon: ${result.stderr || `exit code ${result.code}`}`,
    );
  }
  const image = readDockerArchive(archive);
  await image.manifest();
  return image;
}
