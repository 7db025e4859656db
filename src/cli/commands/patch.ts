import { CopaError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { ProgressReporter } from '../../progress.js';
import { ExitCode } from '../exit-code.js';
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
 * The patch engine's entry point as the CLI calls it. It resolves when the run succeeded or
 * there was nothing to patch, and rejects with a `CopaError` otherwise.
 */
export type PatchEntry = (
  options: PatchCommandOptions,
  context: PatchRunContext,
) => Promise<unknown>;

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
    const summary = await settleOrGiveUp(run, controller.signal, context.stopGraceMs ?? 10_000);
    for (const line of resultLines(summary)) context.stdout.write(`${line}\n`);
    return ExitCode.success;
  } catch (err) {
    if (controller.signal.aborted) throw controller.signal.reason;
    throw err;
  } finally {
    stopTimeout();
    stopForwarding();
  }
}

/**
 * The lines printed on stdout for the engine's result: each reference it wrote, as
 * `name:tag@sha256:…`. Read from `references` (a list), or `reference` plus `digest`; a result
 * with neither (nothing was patched) prints nothing.
 */
export function resultLines(summary: unknown): string[] {
  if (typeof summary !== 'object' || summary === null) return [];
  const { references, reference, digest } = summary as Record<string, unknown>;
  if (Array.isArray(references)) return references.filter((r) => typeof r === 'string');
  if (typeof reference !== 'string') return [];
  if (typeof digest !== 'string' || reference.includes('@')) return [reference];
  return [`${reference}@${digest}`];
}

async function loadPatchEntry(): Promise<PatchEntry> {
  // A variable specifier: the engine is another module's entry, loaded only for `copa patch`.
  const specifier = '../../patch/index.js';
  const engine = (await import(specifier)) as { patchImage?: unknown };
  if (typeof engine.patchImage !== 'function') {
    throw new CopaError('INTERNAL', 'loading the patch engine: "patchImage" is not exported');
  }
  return engine.patchImage as PatchEntry;
}

function abortAfter(controller: AbortController, options: PatchCommandOptions): () => void {
  if (options.timeoutMs > maxTimerMs) return () => {};
  const limit = formatDuration(options.timeoutMs);
  const timer = setTimeout(() => {
    const reason = new CopaError(
      'TIMEOUT',
      `patching "${options.image}": timed out after ${limit}`,
      {
        hint: 'pass a longer --timeout, for example --timeout 30m',
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
