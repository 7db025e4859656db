import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { PatchEntry } from '../../src/cli/commands/patch.js';
import type { PatchCommandOptions } from '../../src/cli/options.js';
import { run } from '../../src/cli/run.js';
import type { PatchSummary } from '../../src/patch/index.js';
import { captureIo } from './capture-io.js';

const summary: PatchSummary = {
  source: 'nginx:1.25',
  target: undefined,
  digest: undefined,
  reference: undefined,
  platforms: [],
  upToDate: true,
  pushed: false,
  ociDir: undefined,
  loaded: [],
  commands: [],
  droppedAttestations: [],
  vexFile: undefined,
};

async function runPatch(extra: string[]) {
  const io = captureIo();
  let options: PatchCommandOptions | undefined;
  const patchImage: PatchEntry = async (given) => {
    options = given;
    return summary;
  };
  const code = await run(['patch', '-i', 'nginx:1.25', ...extra], io, { patchImage });
  return { code, stderr: io.stderr.text, options };
}

describe('copa patch repository flags', () => {
  let dir: string;
  let keyring: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copa-repo-flags-'));
    keyring = join(dir, 'key.gpg');
    await writeFile(keyring, 'not checked here');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const accepted: [string, () => string[], () => PatchCommandOptions['repositories']][] = [
    ['no flag gives no overrides', () => [], () => ({})],
    [
      '--mirror and --security-mirror set both archives',
      () => ['--mirror', 'http://127.0.0.1:9/debian', '--security-mirror=https://m.test/sec'],
      () => ({ mirror: 'http://127.0.0.1:9/debian', securityMirror: 'https://m.test/sec' }),
    ],
    [
      '--extra-suite is repeatable and takes a suite or a deb line',
      () => [
        '--extra-suite',
        'bookworm-backports',
        '--extra-suite',
        'deb [signed-by=/k.gpg] http://127.0.0.1:9/x stable main',
      ],
      () => ({
        extraSuites: [
          'bookworm-backports',
          'deb [signed-by=/k.gpg] http://127.0.0.1:9/x stable main',
        ],
      }),
    ],
    [
      '--keyring is repeatable and made absolute',
      () => ['--keyring', keyring, '--keyring', keyring],
      () => ({ keyrings: [keyring, keyring] }),
    ],
  ];
  for (const [name, args, want] of accepted) {
    it(`accepts: ${name}`, async () => {
      const result = await runPatch(args());
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(result.options?.repositories, want());
    });
  }

  const refused: [string, () => string[], string][] = [
    ['a mirror without a scheme', () => ['--mirror', '127.0.0.1/debian'], '--mirror'],
    ['a file: mirror', () => ['--mirror', 'file:///srv/debian'], '--mirror'],
    ['an ftp security mirror', () => ['--security-mirror', 'ftp://h/d'], '--security-mirror'],
    ['a suite with spaces', () => ['--extra-suite', 'two words'], '--extra-suite'],
    ['a deb line without URI', () => ['--extra-suite', 'deb stable main'], '--extra-suite'],
    ['a missing keyring', () => ['--keyring', join(dir, 'absent.gpg')], '--keyring'],
    ['a directory as keyring', () => ['--keyring', dir], '--keyring'],
  ];
  for (const [name, args, flag] of refused) {
    it(`exits 2 naming ${flag} for ${name}`, async () => {
      const result = await runPatch(args());
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.options, undefined);
      const [error, hint] = result.stderr.split('\n');
      assert.match(error as string, /^error: /);
      assert.ok(error?.includes(flag), error);
      assert.match(hint as string, /^hint: /);
    });
  }
});
