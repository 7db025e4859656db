import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

/** The repository root, from this file's place in it. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Compares `actual` with `testdata/golden/<name>`, or rewrites the file with `UPDATE_GOLDEN=1`. */
export async function assertGolden(name: string, actual: string): Promise<void> {
  const file = join(repoRoot, 'testdata/golden', name);
  if (process.env.UPDATE_GOLDEN === '1') {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, actual);
    return;
  }
  const expected = await readFile(file, 'utf8').catch(() => {
    throw new Error(`golden file "${file}" is missing: run the test with UPDATE_GOLDEN=1`);
  });
  assert.equal(actual, expected, `output differs from ${file} (UPDATE_GOLDEN=1 rewrites it)`);
}
