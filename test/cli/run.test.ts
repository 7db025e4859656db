import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import type { PatchEntry, PatchRunContext } from '../../src/cli/commands/patch.js';
import type { PatchCommandOptions } from '../../src/cli/options.js';
import { run, type RunDependencies } from '../../src/cli/run.js';
import { CopaError } from '../../src/errors.js';
import { PatchFailedError, type PatchSummary } from '../../src/patch/index.js';
import { captureIo, type CapturedIo } from './capture-io.js';

const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

const digest = `sha256:${'e'.repeat(64)}`;

/** A result as the engine returns it, empty apart from `fields`. */
function summaryOf(fields: Partial<PatchSummary> = {}): PatchSummary {
  return {
    source: 'nginx:1.25',
    target: undefined,
    digest: undefined,
    reference: undefined,
    platforms: [],
    upToDate: false,
    pushed: false,
    ociDir: undefined,
    loaded: [],
    commands: [],
    droppedAttestations: [],
    vexFile: undefined,
    ...fields,
  };
}

interface Outcome {
  readonly code: number;
  readonly io: CapturedIo;
  /** The options the engine was called with, when it was. */
  readonly options: PatchCommandOptions | undefined;
}

/** Runs the CLI in-process with an engine that records its options and runs `body`. */
async function runCli(
  argv: string[],
  body: (context: PatchRunContext) => Promise<PatchSummary | void> = async () =>
    summaryOf({ reference: `docker.io/library/nginx:1.25-patched@${digest}` }),
  extra: { io?: CapturedIo; deps?: RunDependencies } = {},
): Promise<Outcome> {
  const io = extra.io ?? captureIo();
  let options: PatchCommandOptions | undefined;
  const patchImage: PatchEntry = async (given, context) => {
    options = given;
    return (await body(context)) ?? summaryOf();
  };
  const code = await run(argv, io, { patchImage, ...extra.deps });
  return { code, io, options };
}

function assertUsageError(outcome: Outcome, named: string): void {
  const lines = outcome.io.stderr.lines();
  assert.equal(outcome.code, 2, outcome.io.stderr.text);
  assert.equal(lines.length, 2, outcome.io.stderr.text);
  assert.match(lines[0] as string, /^error: /);
  assert.ok((lines[0] as string).includes(named), `${lines[0]} names ${named}`);
  assert.match(lines[1] as string, /^hint: /);
  assert.equal(outcome.io.stdout.text, '');
  assert.equal(outcome.options, undefined, 'the engine did not run');
}

/** Waits until `signal` is aborted, then rejects as an engine that honours it would. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(new Error('the operation was aborted')));
  });
}

describe('copa --version and help', () => {
  for (const flag of ['--version', '-v']) {
    it(`${flag} prints the package version on stdout`, async () => {
      const { code, io } = await runCli([flag]);
      assert.equal(code, 0);
      assert.equal(io.stdout.text, `copa version ${version}\n`);
      assert.equal(io.stderr.text, '');
    });
  }

  const helpForms = [
    ['help', 'patch'],
    ['patch', '--help'],
    ['patch', '-h'],
  ];
  for (const argv of helpForms) {
    it(`"copa ${argv.join(' ')}" prints the patch flags on stdout`, async () => {
      const { code, io } = await runCli(argv);
      assert.equal(code, 0);
      for (const flag of ['--image', '--report', '--tag-suffix', '--platform', '--timeout']) {
        assert.ok(io.stdout.text.includes(flag), `help lists ${flag}`);
      }
      assert.match(io.stdout.text, /default:\s+"patched"/);
      assert.equal(io.stderr.text, '');
    });
  }

  it('"copa help" and a bare "copa" list the commands', async () => {
    for (const argv of [['help'], []]) {
      const { code, io } = await runCli(argv);
      assert.equal(code, 0, io.stderr.text);
      assert.match(io.stdout.text, /patch/);
      assert.match(io.stdout.text, /report/);
    }
  });

  it('"copa --debug" without a command prints the help on stderr and exits 2', async () => {
    const { code, io } = await runCli(['--debug']);
    assert.equal(code, 2);
    assert.match(io.stderr.text, /^Usage: copa/);
    assert.equal(io.stdout.text, '');
  });

  it('"copa help report" describes the report command', async () => {
    const { code, io } = await runCli(['help', 'report']);
    assert.equal(code, 0);
    assert.match(io.stdout.text, /--scanner/);
  });
});

describe('copa report', () => {
  const report = 'testdata/reports/trivy/debian-12-amd64.json';

  it('prints the packages to update as a table by default', async () => {
    const { code, io } = await runCli(['report', report]);
    assert.equal(code, 0, io.stderr.text);
    assert.match(io.stdout.text, /libssl3/);
  });

  it('prints the update manifest as JSON with -f json', async () => {
    const { code, io } = await runCli(['report', '-s', 'trivy', '-f', 'json', report]);
    assert.equal(code, 0, io.stderr.text);
    assert.equal(typeof JSON.parse(io.stdout.text), 'object');
  });

  it('prints one line and a hint for a path that does not exist', async () => {
    const { code, io } = await runCli(['report', '/nonexistent/report.json']);
    assert.equal(code, 1);
    assert.deepEqual(io.stderr.lines(), [
      'error: reading report "/nonexistent/report.json": the path does not exist',
      'hint: Check the path: give a report file, or a directory with one report per platform.',
    ]);
  });

  it('exits 2 for an unknown output format', async () => {
    const { code, io } = await runCli(['report', '--format', 'xml', report]);
    assert.equal(code, 2);
    assert.match(io.stderr.text, /--format/);
    assert.equal(io.stdout.text, '');
  });
});

describe('copa usage errors', () => {
  const cases: [string, string[], string][] = [
    ['an unknown command', ['bogus'], '"bogus"'],
    ['help on an unknown command', ['help', 'bogus'], '"bogus"'],
    ['a report without its path', ['report'], '"path"'],
    ['an unknown flag', ['patch', '-i', 'a:1', '--bogus'], '--bogus'],
    ['an unknown short flag', ['patch', '-i', 'a:1', '-Z'], '-Z'],
    ['an unknown root flag', ['--bogus'], '--bogus'],
    ['a flag without its value', ['patch', '-i'], '--image'],
    ['a stray argument', ['patch', '-i', 'a:1', 'extra'], 'patch'],
    ['a missing image', ['patch'], '--image'],
    ['a digest-only image without --tag', ['patch', '-i', `nginx@${digest}`], '--image'],
    ['a bad platform', ['patch', '-i', 'a:1', '--platform', 'linux/amd64,linux'], '--platform'],
    ['a bad duration', ['patch', '-i', 'a:1', '--timeout', '5 minutes'], '--timeout'],
    ['a bad progress mode', ['patch', '-i', 'a:1', '--progress=fancy'], '--progress'],
    ['a bad loader', ['patch', '-i', 'a:1', '-l', 'nerdctl'], '--loader'],
    ['a bad compression', ['patch', '-i', 'a:1', '--compression', 'lz4'], '--compression'],
    ['a bad VEX format', ['patch', '-i', 'a:1', '-f', 'csaf'], '--format'],
    ['bulk mode', ['patch', '--config', 'bulk.yaml'], '--config'],
    ['a boolean flag with a value', ['patch', '-i', 'a:1', '--push=maybe'], '--push'],
    ['the generate command', ['generate', '-i', 'a:1'], 'generate'],
    ['an upper-case image repository', ['patch', '-i', 'UPPER/Case:1'], '--image'],
    ['a short image digest', ['patch', '-i', 'foo@sha256:123', '-t', 'x'], '--image'],
    ['a transport prefix on the image', ['patch', '-i', 'docker://host/x:1'], '--image'],
    ['an upper-case tag repository', ['patch', '-i', 'a:1', '-t', 'Other/Repo:x'], '--tag'],
    ['an empty platform list', ['patch', '-i', 'a:1', '--platform', ','], '--platform'],
    ['a blank platform', ['patch', '-i', 'a:1', '--platform', ' '], '--platform'],
    ['a timeout under 1ms', ['patch', '-i', 'a:1', '--timeout', '1ns'], '--timeout'],
    ['a timeout beyond Go', ['patch', '-i', 'a:1', '--timeout', '99999999999h'], '--timeout'],
    ['a short boolean flag with a value', ['patch', '-i', 'a:1', '-p=maybe'], '-p'],
  ];
  for (const [name, argv, named] of cases) {
    it(`exits 2 naming ${named} for ${name}`, async () => {
      assertUsageError(await runCli(argv), named);
    });
  }

  it('names the accepted values of an enumerated flag', async () => {
    const { io } = await runCli(['patch', '-i', 'a:1', '--progress', 'fancy']);
    assert.match(io.stderr.lines()[0] as string, /auto, plain, tty, quiet/);
  });

  it('points at the help of the command in the hint', async () => {
    const { io } = await runCli(['patch', '-i', 'a:1', '--bogus']);
    assert.match(io.stderr.lines()[1] as string, /copa help patch/);
  });

  it('tells to drop a transport prefix from the image', async () => {
    const { io } = await runCli(['patch', '-i', 'docker://host/x:1']);
    assert.match(io.stderr.lines()[1] as string, /Drop the prefix.*oci:DIR:TAG/);
  });

  it('says --force-compression is not applied in the help', async () => {
    const { io } = await runCli(['help', 'patch']);
    const line = io.stdout.text.split('\n').find((l) => l.includes('--force-compression'));
    assert.match(line ?? '', /not applied/);
  });

  it('suggests a close flag for a typo', async () => {
    const { io } = await runCli(['patch', '--imag', 'a:1']);
    assert.match(io.stderr.text, /did you mean --image/);
  });
});

describe('copa patch flags', () => {
  it('reads the short forms', async () => {
    const argv = ['patch', '-i', 'a:1', '-r', 'r.json', '-t', 'b', '-p', '-s', 'native', '-f'];
    argv.push('openvex', '-o', 'vex.json', '-w', tmpdir(), '-l', 'podman');
    const { code, options } = await runCli(argv);
    assert.equal(code, 0);
    assert.equal(options?.image, 'a:1');
    assert.equal(options?.report, 'r.json');
    assert.equal(options?.tag, 'b');
    assert.equal(options?.push, true);
    assert.equal(options?.scanner, 'native');
    assert.equal(options?.format, 'openvex');
    assert.equal(options?.output, 'vex.json');
    assert.equal(options?.workingFolder, tmpdir());
    assert.equal(options?.loader, 'podman');
  });

  it('reads the long forms, with a space or "="', async () => {
    const argv = ['patch', '--image=a:1', '--report', 'dir', '--tag-suffix=fixed', '--push'];
    argv.push('--ignore-errors', '--scanner=grype', '--timeout', '90s', '--oci-dir', 'layout');
    argv.push('--progress', 'quiet', '--compression=zstd', '--force-compression');
    const { code, options } = await runCli(argv);
    assert.equal(code, 0);
    assert.equal(options?.report, 'dir');
    assert.equal(options?.tagSuffix, 'fixed');
    assert.equal(options?.ignoreErrors, true);
    assert.equal(options?.scanner, 'grype');
    assert.equal(options?.timeoutMs, 90_000);
    assert.equal(options?.ociDir, 'layout');
    assert.equal(options?.compression, 'zstd');
    assert.equal(options?.forceCompression, true);
  });

  it('applies the defaults', async () => {
    const { options } = await runCli(['patch', '-i', 'a:1']);
    assert.equal(options?.tagSuffix, 'patched');
    assert.equal(options?.scanner, 'trivy');
    assert.equal(options?.format, 'openvex');
    assert.equal(options?.timeoutMs, 300_000);
    assert.equal(options?.push, false);
    assert.equal(options?.compression, 'gzip');
    assert.deepEqual(options?.platforms, []);
  });

  it('collects --platform from repeats and comma lists', async () => {
    const argv = ['patch', '-i', 'a:1', '--platform', 'linux/amd64,linux/arm/v7'];
    argv.push('--platform=linux/arm64');
    const { options } = await runCli(argv);
    assert.deepEqual(options?.platforms, [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
      { os: 'linux', architecture: 'arm64' },
    ]);
  });

  const durations: [string, number][] = [
    ['5m', 300_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['300ms', 300],
  ];
  for (const [text, ms] of durations) {
    it(`reads --timeout ${text} as ${ms} ms`, async () => {
      const { options } = await runCli(['patch', '-i', 'a:1', `--timeout=${text}`]);
      assert.equal(options?.timeoutMs, ms);
    });
  }

  it('takes Go-style boolean values', async () => {
    const yes = await runCli(['patch', '-i', 'a:1', '--push=true', '--ignore-errors=1']);
    assert.equal(yes.options?.push, true);
    assert.equal(yes.options?.ignoreErrors, true);
    const no = await runCli(['patch', '-i', 'a:1', '--push=false']);
    assert.equal(no.options?.push, false);
    assert.equal((await runCli(['patch', '-i', 'a:1', '-p=true'])).options?.push, true);
    assert.equal((await runCli(['patch', '-i', 'a:1', '-p=false'])).options?.push, false);
  });

  it('reads --debug before or after the command', async () => {
    assert.equal((await runCli(['--debug', 'patch', '-i', 'a:1'])).options?.debug, true);
    assert.equal((await runCli(['patch', '-i', 'a:1', '--debug'])).options?.debug, true);
    assert.equal((await runCli(['patch', '-i', 'a:1'])).options?.debug, false);
  });

  it('warns about ignored BuildKit flags and still runs', async () => {
    const { code, io } = await runCli(['patch', '-i', 'a:1', '-a', 'docker://']);
    assert.equal(code, 0);
    assert.match(io.stderr.text, /^warn: ignoring --addr/m);
  });
});

describe('copa patch output', () => {
  it('prints the patched reference with its digest on stdout only', async () => {
    const { code, io } = await runCli(['patch', '-i', 'nginx:1.25'], async ({ logger }) => {
      logger.info('pulled "nginx:1.25"');
      return summaryOf({ reference: `docker.io/library/nginx:1.25-patched@${digest}` });
    });
    assert.equal(code, 0);
    assert.equal(io.stdout.text, `docker.io/library/nginx:1.25-patched@${digest}\n`);
    assert.equal(io.stderr.text, 'pulled "nginx:1.25"\n');
  });

  it('prints the commands that publish an unpushed result on stderr', async () => {
    const commands = ['docker push r:1-patched-amd64', 'docker push r:1-patched-arm64'];
    const { io } = await runCli(['patch', '-i', 'r:1'], async () =>
      summaryOf({ reference: `oci:copa-oci:1-patched@${digest}`, commands }),
    );
    assert.equal(io.stdout.text, `oci:copa-oci:1-patched@${digest}\n`);
    assert.deepEqual(io.stderr.lines(), [
      'to publish the result, run:',
      ...commands.map((c) => `  ${c}`),
    ]);
  });

  it('prints the summary table on stderr, once, and the reference on stdout', async () => {
    const platforms = [
      {
        platform: { os: 'linux', architecture: 'amd64' },
        status: 'patched' as const,
        sourceDigest: digest,
        digest,
        updated: [{ name: 'zlib1g', arch: 'amd64', fromVersion: '1', toVersion: '2' }],
        failed: [],
        fixedVulnerabilities: [],
        scriptsNotRun: [],
      },
    ];
    const reference = `r:1-patched@${digest}`;
    const { io } = await runCli(['patch', '-i', 'r:1'], async () =>
      summaryOf({ reference, platforms }),
    );
    assert.equal(io.stdout.text, `${reference}\n`);
    assert.deepEqual(io.stderr.lines(), [
      'PLATFORM     STATUS   UPDATED  MANIFEST',
      `linux/amd64  patched  1        ${digest}`,
    ]);
  });

  it('prints the summary table of a run that failed, then the error', async () => {
    const platforms = [
      {
        platform: { os: 'linux', architecture: 'arm64' },
        status: 'failed' as const,
        sourceDigest: digest,
        digest: undefined,
        updated: [],
        failed: [],
        fixedVulnerabilities: [],
        scriptsNotRun: [],
        message: 'patching linux/arm64: no fix',
      },
    ];
    const { code, io } = await runCli(['patch', '-i', 'r:1'], async () => {
      throw new PatchFailedError(
        'patching: a platform failed',
        summaryOf({ platforms }),
        'Fix it.',
      );
    });
    assert.equal(code, 1);
    assert.equal(io.stdout.text, '');
    assert.deepEqual(io.stderr.lines(), [
      'PLATFORM     STATUS  UPDATED  MANIFEST',
      'linux/arm64  failed  -        -',
      'linux/arm64: patching linux/arm64: no fix',
      'error: patching: a platform failed',
      'hint: Fix it.',
    ]);
  });

  it('exits 0 and prints nothing on stdout when there is nothing to patch', async () => {
    const { code, io } = await runCli(['patch', '-i', 'a:1'], async ({ logger }) => {
      logger.info('image is already up to date: no patch was applied');
      return summaryOf({ upToDate: true });
    });
    assert.equal(code, 0);
    assert.equal(io.stdout.text, '');
    assert.match(io.stderr.text, /up to date/);
  });

  it('writes warn lines and, only with --debug, debug lines to stderr', async () => {
    const body = async ({ logger }: PatchRunContext) => {
      logger.debug('GET /v2/');
      logger.warn('no fix for "zlib"');
      logger.info('wrote layer');
    };
    const quiet = await runCli(['patch', '-i', 'a:1'], body);
    assert.deepEqual(quiet.io.stderr.lines(), ['warn: no fix for "zlib"', 'wrote layer']);
    const loud = await runCli(['patch', '-i', 'a:1', '--debug'], body);
    assert.deepEqual(loud.io.stderr.lines(), [
      'debug: GET /v2/',
      'warn: no fix for "zlib"',
      'wrote layer',
    ]);
  });

  it('prints a line per finished transfer when stderr is not a terminal', async () => {
    const { io } = await runCli(['patch', '-i', 'a:1'], async ({ progress }) => {
      progress.start('l1', 'linux/amd64: pulling "sha256:ab12"', 2000);
      progress.update('l1', 1500);
      progress.update('l1', 500);
      progress.done('l1', 'done');
      progress.start('l2', 'linux/amd64: pushing "sha256:cd34"');
      progress.done('l2', 'skipped');
    });
    assert.deepEqual(io.stderr.lines().length, 1);
    assert.match(
      io.stderr.text,
      /^linux\/amd64: pulling "sha256:ab12": done, 2\.0 kB in \d+\.\ds$/m,
    );
  });

  it('prints no progress with --progress quiet', async () => {
    const { io } = await runCli(['patch', '-i', 'a:1', '--progress', 'quiet'], async (c) => {
      c.progress.start('l1', 'pulling', 10);
      c.progress.done('l1', 'done');
      c.logger.info('done');
    });
    assert.equal(io.stderr.text, 'done\n');
  });

  it('draws bars when stderr is a terminal', async () => {
    const io = captureIo({ stderrIsTTY: true });
    await runCli(
      ['patch', '-i', 'a:1'],
      async ({ progress, logger }) => {
        progress.start('l1', 'linux/arm64: pulling "sha256:ab12"', 4000);
        progress.update('l1', 1000);
        logger.info('between the bars');
        await new Promise((resolve) => setTimeout(resolve, 250));
        progress.update('l1', 3000);
        progress.done('l1', 'done');
      },
      { io },
    );
    const text = io.stderr.text;
    assert.ok(text.includes('\x1b['), 'terminal control sequences');
    assert.match(text, / 25% 1\.0 kB \/ 4\.0 kB/);
    assert.match(text, /between the bars/);
    assert.match(text, /linux\/arm64: pulling "sha256:ab12": done, 4\.0 kB/);
  });
});

describe('copa patch failures', () => {
  it('prints error and hint, without a stack, and exits 1', async () => {
    const { code, io } = await runCli(['patch', '-i', 'a:1'], async () => {
      throw new CopaError('REGISTRY_UNAUTHORIZED', 'pulling "a:1": 401 unauthorized', {
        hint: 'Log in with "docker login" first.',
      });
    });
    assert.equal(code, 1);
    assert.deepEqual(io.stderr.lines(), [
      'error: pulling "a:1": 401 unauthorized',
      'hint: Log in with "docker login" first.',
    ]);
    assert.equal(io.stdout.text, '');
  });

  it('lists the tags of an OCI layout that lacks the tag asked for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'copa-cli-layout-'));
    try {
      writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
      const entry = {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest,
        size: 10,
        annotations: { 'org.opencontainers.image.ref.name': '1.0' },
      };
      writeFileSync(
        join(dir, 'index.json'),
        JSON.stringify({ schemaVersion: 2, manifests: [entry] }),
      );
      const io = captureIo();
      const argv = ['patch', '-i', `oci:${dir}:nosuchtag`, '--progress', 'quiet'];
      const code = await run([...argv, '-r', 'testdata/reports/trivy/debian-12-amd64.json'], io);
      assert.equal(code, 1);
      assert.deepEqual(io.stderr.lines(), [
        `error: reading layout "${dir}": no entry tagged "nosuchtag"`,
        'hint: Tags in the layout: "1.0"; pass one as oci:DIR:TAG.',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints the stack with --debug', async () => {
    const { code, io } = await runCli(['patch', '-i', 'a:1', '--debug'], async () => {
      throw new CopaError('PATCH_FAILED', 'patching "a:1": no space left');
    });
    assert.equal(code, 1);
    assert.match(io.stderr.text, /^error: patching "a:1": no space left$/m);
    assert.match(io.stderr.text, /^\s+at /m);
  });

  it('exits 2 for a USAGE error from the engine', async () => {
    const { code } = await runCli(['patch', '-i', 'a:1'], async () => {
      throw new CopaError('USAGE', 'reading --report: "x" does not exist', { hint: 'check it' });
    });
    assert.equal(code, 2);
  });

  for (const [name, error] of [
    ['an unexpected exception', new TypeError("cannot read properties of undefined (reading 'x')")],
    ['an INTERNAL error', new CopaError('INTERNAL', 'writing the index: state lost')],
  ] as const) {
    it(`reports ${name} as an internal error with the versions to report`, async () => {
      const { code, io } = await runCli(['patch', '-i', 'a:1'], async () => {
        throw error;
      });
      assert.equal(code, 1);
      const [first, hint, ...rest] = io.stderr.lines();
      assert.match(first as string, /^error: internal error: /);
      assert.match(hint as string, /^hint: .*open an issue/);
      assert.ok((hint as string).includes(`copa ${version}`));
      assert.ok((hint as string).includes(`node ${process.version}`));
      assert.deepEqual(rest, [], 'no stack without --debug');
    });
  }

  it('joins the messages of a cause chain', async () => {
    const { io } = await runCli(['patch', '-i', 'a:1'], async () => {
      const cause = new Error('connect ECONNREFUSED 127.0.0.1:1');
      throw new CopaError('REGISTRY_UNREACHABLE', 'pulling "a:1"', { cause });
    });
    assert.equal(io.stderr.lines()[0], 'error: pulling "a:1": connect ECONNREFUSED 127.0.0.1:1');
  });

  it('cancels the run on the user signal and exits 1', async () => {
    const controller = new AbortController();
    const io = captureIo({ signal: controller.signal });
    const { code } = await runCli(
      ['patch', '-i', 'a:1'],
      ({ signal }) => {
        setTimeout(() => controller.abort(), 20);
        return untilAborted(signal);
      },
      { io },
    );
    assert.equal(code, 1);
    assert.equal(io.stderr.lines()[0], 'error: patching "a:1": cancelled');
  });

  it('gives up on an engine that ignores the cancellation', async () => {
    const controller = new AbortController();
    const io = captureIo({ signal: controller.signal });
    controller.abort();
    const { code } = await runCli(['patch', '-i', 'a:1'], () => new Promise(() => {}), {
      io,
      deps: { stopGraceMs: 50 },
    });
    assert.equal(code, 1);
    assert.match(io.stderr.text, /cancelled/);
  });

  it('prints nothing after the final error when the engine goes on after a timeout', async () => {
    let finished: Promise<void> | undefined;
    const argv = ['patch', '-i', 'a:1', '--timeout', '20ms', '--progress', 'plain'];
    const { code, io } = await runCli(
      argv,
      ({ signal, progress, logger }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            finished = new Promise((done) => setTimeout(done, 100)).then(() => {
              progress.start('layer', 'linux/arm64: reading layer', 10);
              progress.done('layer', 'failed');
              logger.warn('late warning');
              reject(new Error('stopped late'));
            });
          });
        }),
      { deps: { stopGraceMs: 10 } },
    );
    await finished;
    assert.equal(code, 1);
    assert.deepEqual(io.stderr.lines(), [
      'error: patching "a:1": timed out after 20ms',
      'hint: Pass a longer --timeout, for example --timeout 30m.',
    ]);
  });

  it('aborts the run after --timeout and exits 1', async () => {
    let aborted: unknown;
    const { code, io } = await runCli(
      ['patch', '-i', 'a:1', '--timeout', '100ms'],
      ({ signal }) => {
        signal.addEventListener('abort', () => (aborted = signal.reason));
        return untilAborted(signal);
      },
    );
    assert.equal(code, 1);
    assert.ok(aborted instanceof CopaError && aborted.code === 'TIMEOUT');
    assert.deepEqual(io.stderr.lines(), [
      'error: patching "a:1": timed out after 100ms',
      'hint: Pass a longer --timeout, for example --timeout 30m.',
    ]);
  });
});
