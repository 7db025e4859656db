import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A checkout with bin/copa.js, a built and a source entry point that say which one ran. */
async function checkout(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'copa-bin-'));
  await mkdir(join(dir, 'bin'));
  await mkdir(join(dir, 'dist', 'cli'), { recursive: true });
  await mkdir(join(dir, 'src', 'cli'), { recursive: true });
  await copyFile(join(root, 'bin', 'copa.js'), join(dir, 'bin', 'copa.js'));
  await writeFile(join(dir, 'package.json'), '{"type":"module"}\n');
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'));
  await writeFile(join(dir, 'dist', 'cli', 'main.js'), "console.log('built');\n");
  await writeFile(join(dir, 'src', 'cli', 'main.ts'), "console.log('source');\n");
  return dir;
}

async function setAge(path: string, secondsAgo: number): Promise<void> {
  const when = Date.now() / 1000 - secondsAgo;
  await utimes(path, when, when);
}

async function run(dir: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'bin', 'copa.js')]);
  return stdout.trim();
}

describe('bin/copa.js choosing between dist/ and src/', () => {
  it('runs the build when it is newer than every source file', async (t) => {
    const dir = await checkout();
    t.after(() => rm(dir, { recursive: true, force: true }));
    await setAge(join(dir, 'src', 'cli', 'main.ts'), 60);
    assert.equal(await run(dir), 'built');
  });

  it('runs the sources when one of them changed after the build', async (t) => {
    const dir = await checkout();
    t.after(() => rm(dir, { recursive: true, force: true }));
    await setAge(join(dir, 'dist', 'cli', 'main.js'), 60);
    assert.equal(await run(dir), 'source');
  });

  it('runs the build when there are no sources, as in an installed package', async (t) => {
    const dir = await checkout();
    t.after(() => rm(dir, { recursive: true, force: true }));
    await rm(join(dir, 'src'), { recursive: true });
    await setAge(join(dir, 'dist', 'cli', 'main.js'), 60);
    assert.equal(await run(dir), 'built');
  });
});
