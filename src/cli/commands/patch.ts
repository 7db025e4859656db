import { CopaError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { PatchSummary } from '../../patch/index.js';
import type { ProgressReporter } from '../../progress.js';
import { ExitCode } from '../exit-code.js';
import { formatSummary } from '../format-summary.js';
import type { OutputStream } from '../io.js';
import type { PatchCommandOptions } from '../options.js';
import { formatDuration } from '../parse-duration.js';

/** What the patch engine receives besides its options. */
export interface PatchRunContext {
  readonly logger: Logger;
  readonly progress: ProgressReporter;
  /** Aborted on Ctrl-C, SIGTERM or `--timeout`; its `reason` is a `CANCELLED`/`TIMEOUT` error. */
  readonly signal: AbortSignal;
}

/**
 * The patch engine's entry point as the CLI calls it (`patchImage` of `src/patch`). It resolves
 * when the run succeeded or there was nothing to patch, and rejects with a `CopaError` otherwise.
 */
export type PatchEntry = (
  options: PatchCommandOptions,
  context: PatchRunContext,
) => Promise<PatchSummary>;

/** Options of {@link runPatchCommand}. */
export interface PatchCommandContext {
  readonly stdout: OutputStream;
  readonly logger: Logger;
  readonly progress: ProgressReporter;
  /** The user's cancellation (Ctrl-C, SIGTERM). */
  readonly signal?: AbortSignal;
  /** The engine; loaded from `src/patch` when absent. */
  readonly patchImage?: PatchEntry;
  /** How long a cancelled run may take to stop before the command gives up on it. */
  readonly stopGraceMs?: number;
  /** Writes one line of the summary table to stderr; `logger.info` when absent. */
  readonly writeLine?: (line: string) => void;
}

/** Node's timers overflow past this many milliseconds (about 24.8 days). */
const maxTimerMs = 2 ** 31 - 1;

/**
 * Runs `copa patch` with validated options: calls the engine with a signal aborted by the user or
 * by `--timeout`, then prints the patched references on stdout. Throws what the engine threw, or
 * a `CANCELLED`/`TIMEOUT` error when the run was stopped.
 */
export async function runPatchCommand(
  options: PatchCommandOptions,
  context: PatchCommandContext,
): Promise<number> {
  const patchImage = context.patchImage ?? (await loadPatchEntry());
  const controller = new AbortController();
  const stopTimeout = abortAfter(controller, options);
  const stopForwarding = forwardAbort(context.signal, controller, options);
  try {
    const run = patchImage(options, { ...context, signal: controller.signal });
    const summary = await settleOrGiveUp(run, controller.signal, context.stopGraceMs ?? 2000);
    printSummary(summary, context);
    return ExitCode.success;
  } catch (err) {
    if (controller.signal.aborted) throw controller.signal.reason;
    // A run stopped by failed platforms still tells how each platform ended.
    if (hasSummary(err)) printTable(err.summary, context);
    throw err;
  } finally {
    stopTimeout();
    stopForwarding();
  }
}

/**
 * Prints the result: the reference written (`name:tag@sha256:…`) on stdout, nothing there when
 * the image was up to date; the commands that publish an unpushed result on stderr.
 */
function printSummary(summary: PatchSummary, context: PatchCommandContext): void {
  printTable(summary, context);
  if (summary.reference !== undefined) context.stdout.write(`${summary.reference}\n`);
  if (summary.commands.length === 0) return;
  context.logger.info('to publish the result, run:');
  for (const command of summary.commands) context.logger.info(`  ${command}`);
}

/** The summary table on stderr, once per run. */
function printTable(summary: PatchSummary, context: PatchCommandContext): void {
  const writeLine = context.writeLine ?? ((line: string) => context.logger.info(line));
  for (const line of formatSummary(summary)) writeLine(line);
}

function hasSummary(err: unknown): err is { summary: PatchSummary } {
  if (typeof err !== 'object' || err === null || !('summary' in err)) return false;
  const summary = (err as { summary: unknown }).summary;
  return typeof summary === 'object' && summary !== null && 'platforms' in summary;
}

async function loadPatchEntry(): Promise<PatchEntry> {
  // Loaded only for `copa patch`, so the other commands start without the engine.
  const { patchImage } = await import('../../patch/index.js');
  return patchImage;
}

function abortAfter(controller: AbortController, options: PatchCommandOptions): () => void {
  if (options.timeoutMs > maxTimerMs) return () => {};
  const limit = formatDuration(options.timeoutMs);
  const timer = setTimeout(() => {
    const reason = new CopaError(
      'TIMEOUT',
      `patching "${options.image}": timed out after ${limit}`,
      {
        hint: 'Pass a longer --timeout, for example --timeout 30m.',
      },
    );
    controller.abort(reason);
  }, options.timeoutMs);
  return () => clearTimeout(timer);
}

function forwardAbort(
  signal: AbortSignal | undefined,
  controller: AbortController,
  options: PatchCommandOptions,
): () => void {
  if (signal === undefined) return () => {};
  const onAbort = () => {
    controller.abort(new CopaError('CANCELLED', `patching "${options.image}": cancelled`));
  };
  if (signal.aborted) onAbort();
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

/**
 * Waits for `run`; once `signal` is aborted, waits at most `graceMs` more, then rejects with the
 * abort reason so the command ends even if the engine does not stop.
 */
function settleOrGiveUp<T>(run: Promise<T>, signal: AbortSignal, graceMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      timer = setTimeout(() => reject(signal.reason), graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    run.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  });
}
