import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const bin = fileURLToPath(new URL('../../bin/copa.js', import.meta.url));
const { version } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function copa(...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('bin/copa.js', () => {
  it('prints the version and exits 0', async () => {
    const result = await copa('--version');
    assert.deepEqual(result, { code: 0, stdout: `copa version ${version}\n`, stderr: '' });
  });

  it('exits 2 with one error line and one hint line for an unknown flag', async () => {
    const result = await copa('patch', '--no-such-flag');
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.deepEqual(result.stderr.trimEnd().split('\n'), [
      'error: unknown option "--no-such-flag"',
      'hint: run "copa help patch" to see the commands, flags and accepted values',
    ]);
  });

  it('exits 2 for a bad value before doing any work', async () => {
    const result = await copa('patch', '-i', 'nginx:1.25', '--timeout', 'soon');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error: reading --timeout: "soon"/);
  });
});
