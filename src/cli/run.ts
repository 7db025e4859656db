import { CommanderError, type Command } from '@commander-js/extra-typings';

import { CopaError } from '../errors.js';
import { createCliLogger } from './cli-logger.js';
import { colorsFor, type Colors } from './colors.js';
import { runPatchCommand, type PatchEntry } from './commands/patch.js';
import type { RunReportCommandOptions } from './commands/report.js';
import { ExitCode, exitCodeFor } from './exit-code.js';
import { processIo, type CliIo } from './io.js';
import { printError } from './print-error.js';
import { createProgram } from './program.js';
import { createProgressDisplay, resolveDisplayMode } from './progress-display.js';
import { resolvePatchOptions, type PatchFlags } from './resolve-patch-options.js';

/** Replacements for the engines the commands call, for tests and embedding. */
export interface RunDependencies {
  /** The patch engine; `src/patch`'s `patchImage` when absent. */
  readonly patchImage?: PatchEntry;
  /** How long a cancelled patch may take to stop before the command gives up on it. */
  readonly stopGraceMs?: number;
}

/** Flags that take no value; Go's flag parser also accepts them as `--flag=true|false`. */
const booleanFlags = new Set([
  '--push',
  '--ignore-errors',
  '--force-compression',
  '--exit-on-eol',
  '--debug',
  '-p',
]);

/**
 * Runs the copa command line with `argv` (without the node and script names) and returns the
 * exit code: 0 success (or nothing to patch), 1 failed, cancelled or timed out, 2 usage error.
 * Never throws and never exits the process; results go to `io.stdout`, everything else to
 * `io.stderr`.
 */
export async function run(
  argv: readonly string[],
  io: CliIo = processIo(),
  deps: RunDependencies = {},
): Promise<number> {
  const colors = colorsFor(io.stderr, io.env);
  const args = normalizeBooleanFlags(argv);
  const program = createProgram(io, {
    patch: (flags) => patch(flags, io, deps),
    report: (path, options) => report(path, options, io),
  });

  try {
    if (args.length === 0) {
      io.stdout.write(program.command.helpInformation());
      return ExitCode.success;
    }
    checkShortBooleanValues(args);
    if (args[0] === 'help') checkHelpTopic(args[1], program.command);
    await program.command.parseAsync(args, { from: 'user' });
    return program.exitCode() ?? ExitCode.success;
  } catch (err) {
    return fail(err, { io, colors, debug: args.includes('--debug'), args });
  }
}

async function patch(flags: PatchFlags, io: CliIo, deps: RunDependencies): Promise<number> {
  const colors = colorsFor(io.stderr, io.env);
  const debug = flags.debug === true;
  const early = createCliLogger({ writeLine: (l) => io.stderr.write(`${l}\n`), colors, debug });
  const { options, progress } = resolvePatchOptions(flags, { warn: early.warn });

  const mode = resolveDisplayMode(progress, io.stderr);
  const display = createProgressDisplay({ mode, stream: io.stderr, colors, debug });
  const logger = createCliLogger({ writeLine: (l) => display.writeLine(l), colors, debug });
  try {
    return await runPatchCommand(options, {
      stdout: io.stdout,
      logger,
      progress: display,
      writeLine: (line) => display.writeLine(line),
      ...(io.signal === undefined ? {} : { signal: io.signal }),
      ...deps,
    });
  } finally {
    display.stop();
  }
}

async function report(path: string, options: RunReportCommandOptions, io: CliIo): Promise<number> {
  // Loaded only when it runs, so the other commands do not load the report parsers.
  const { runReportCommand } = await import('./commands/report.js');
  return runReportCommand(path, options, io);
}

interface FailContext {
  readonly io: CliIo;
  readonly colors: Colors;
  readonly debug: boolean;
  readonly args: readonly string[];
}

function fail(err: unknown, context: FailContext): number {
  if (err instanceof CommanderError) {
    // Help and version were printed already; they end the run like success.
    if (isRequestedOutput(err, context.args)) return ExitCode.success;
    // Help printed for a missing command, on stderr: the message is noise after it.
    if (err.code === 'commander.help') return ExitCode.usage;
    err = fromCommanderError(err, context.args);
  }
  printError(err, { stderr: context.io.stderr, debug: context.debug, colors: context.colors });
  return exitCodeFor(err);
}

/** `copa help <topic>` for an unknown topic is an unknown command, not the general help. */
function checkHelpTopic(topic: string | undefined, program: Command): void {
  if (topic === undefined || program.commands.some((c) => c.name() === topic)) return;
  throw new CopaError('USAGE', `unknown command "${topic}"`, {
    hint: 'Run "copa help" to see the commands.',
  });
}

/** Whether commander stopped after printing help or the version the user asked for. */
function isRequestedOutput(err: CommanderError, args: readonly string[]): boolean {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return true;
  return err.code === 'commander.help' && args[0] === 'help';
}

/** Commander's own usage errors, reworded the copa way with a pointer to the help. */
function fromCommanderError(err: CommanderError, args: readonly string[]): CopaError {
  const message = err.message
    .replace(/^error: /, '')
    .replace(/'([^']*)'/g, '"$1"')
    .replace(/\s*\n\s*/g, ' ')
    .replace('(Did you mean', '(did you mean')
    .replace('. Expected', ': expected')
    .replace(/\.$/, '');
  const command = ['patch', 'report'].find((name) => args.includes(name));
  const help = command === undefined ? 'copa help' : `copa help ${command}`;
  return new CopaError('USAGE', message, {
    hint: `Run "${help}" to see the commands, flags and accepted values.`,
  });
}

/** Short flags without a value; `-p=maybe` would otherwise read as the flags `-=maybe`. */
const shortBooleanFlags = new Set(['-p']);

/** Throws a `USAGE` error for a short flag without a value given one that is not a boolean. */
function checkShortBooleanValues(args: readonly string[]): void {
  const end = args.indexOf('--');
  for (const arg of end === -1 ? args : args.slice(0, end)) {
    const match = /^(-[a-zA-Z])=(.*)$/.exec(arg);
    if (match === null || !shortBooleanFlags.has(match[1] as string)) continue;
    throw new CopaError('USAGE', `reading ${match[1]}: "${match[2]}" is not a boolean`, {
      hint: `Pass ${match[1]} alone, or ${match[1]}=true or ${match[1]}=false.`,
    });
  }
}

/** Rewrites `--flag=true` as `--flag` and drops `--flag=false` for the flags without a value. */
function normalizeBooleanFlags(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  const head = end === -1 ? argv : argv.slice(0, end);
  const tail = end === -1 ? [] : argv.slice(end);
  const rewritten = head.flatMap((arg) => {
    const match = /^(--[a-z-]+|-[a-zA-Z])=(true|false|1|0)$/.exec(arg);
    if (match === null || !booleanFlags.has(match[1] as string)) return [arg];
    return match[2] === 'true' || match[2] === '1' ? [match[1] as string] : [];
  });
  return [...rewritten, ...tail];
}
