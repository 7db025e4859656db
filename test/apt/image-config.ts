/** Builds the apt configuration of a test image whose sources point at a loopback repository. */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

import { readAptConfig, type AptConfig } from '../../src/pkgmgr/dpkg/apt/index.js';
import type { Logger } from '../../src/log.js';
import type { AptRepository } from '../support/apt-repo.js';
import { memoryTree, type MemoryFile } from './memory-tree.js';

export interface ImageConfigOptions {
  readonly suites?: readonly string[];
  /** How the image names the key: a Signed-By path (default), trusted.gpg.d, inline or none. */
  readonly key?: 'signed-by' | 'trusted' | 'inline' | 'fingerprint' | 'none';
  readonly files?: Readonly<Record<string, MemoryFile>>;
}

/** Reads an image config with one deb822 source for `repo`. */
export async function imageConfig(
  repo: AptRepository,
  options: ImageConfigOptions = {},
): Promise<AptConfig> {
  const key = options.key ?? 'signed-by';
  const suites = (options.suites ?? ['stable']).join(' ');
  let sources = `Types: deb\nURIs: ${repo.url}\nSuites: ${suites}\nComponents: main\n`;
  const files: Record<string, MemoryFile> = { ...options.files };
  const keyring = await fs.readFile(repo.keyringPath);
  if (key === 'signed-by') {
    sources += 'Signed-By: /usr/share/keyrings/test-archive.gpg\n';
    files['usr/share/keyrings/test-archive.gpg'] = keyring;
  } else if (key === 'trusted') {
    files['etc/apt/trusted.gpg.d/test.asc'] = repo.armoredKey;
  } else if (key === 'fingerprint') {
    sources += `Signed-By: ${repo.fingerprint}\n`;
    files['etc/apt/trusted.gpg.d/test.gpg'] = keyring;
  } else if (key === 'inline') {
    const lines = repo.armoredKey.trimEnd().split('\n');
    sources += `Signed-By:\n${lines.map((l) => ` ${l === '' ? '.' : l}`).join('\n')}\n`;
  }
  files['etc/apt/sources.list.d/test.sources'] = sources;
  return readAptConfig(memoryTree(files), {
    osRelease: { id: 'debian', versionCodename: 'bookworm' },
  });
}

/** A private cache directory and empty host root; `cleanup()` removes both. */
export async function scratch(): Promise<{
  cacheDir: string;
  hostRoot: string;
  cleanup(): Promise<void>;
}> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'copa-apt-test-'));
  const cacheDir = path.join(dir, 'cache');
  const hostRoot = path.join(dir, 'host');
  await fs.mkdir(hostRoot, { recursive: true });
  return { cacheDir, hostRoot, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** A logger that keeps the lines, for asserting on warnings. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: (m) => lines.push(`debug: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
  };
}
