import { isCopaError } from '../errors.js';
import type { Colors } from './colors.js';
import type { OutputStream } from './io.js';
import { versionReport } from './version.js';

/** Options of {@link printError}. */
export interface PrintErrorOptions {
  readonly stderr: OutputStream;
  /** Also print the stack of the error and of each cause. */
  readonly debug: boolean;
  readonly colors: Colors;
}

/**
 * Prints the error that ended a command: `error: <message>`, then `hint: <hint>` when there is
 * one. Errors that are not a known failure (code `INTERNAL`, or not a `CopaError` at all) are
 * bugs: the user is asked to report them with the versions in use.
 */
export function printError(err: unknown, options: PrintErrorOptions): void {
  const { stderr, colors } = options;
  const internal = !isCopaError(err) || err.code === 'INTERNAL';
  const message = describeError(err);
  stderr.write(
    `${colors.red(colors.bold('error:'))} ${internal ? 'internal error: ' : ''}${message}\n`,
  );

  const hint = internal ? internalHint() : isCopaError(err) ? err.hint : undefined;
  if (hint !== undefined) stderr.write(`${colors.dim('hint:')} ${hint}\n`);

  if (options.debug) stderr.write(colors.dim(`${stackOf(err)}\n`));
}

/**
 * The message of `err` followed by those of its causes, joined by ": ", skipping a cause whose
 * text the message already contains (wrapped errors carry their cause's text).
 */
export function describeError(err: unknown): string {
  let text = messageOf(err);
  const seen = new Set<unknown>([err]);
  for (let cause = causeOf(err); cause !== undefined && !seen.has(cause); cause = causeOf(cause)) {
    seen.add(cause);
    const causeText = messageOf(cause);
    if (causeText !== '' && !text.includes(causeText)) text = `${text}: ${causeText}`;
  }
  return text;
}

function internalHint(): string {
  return (
    'This is a bug in copa. Please open an issue with the command you ran, this output ' +
    `(run again with --debug for the stack) and these versions: ${versionReport()}.`
  );
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message === '' ? err.name : err.message;
  return String(err);
}

function causeOf(err: unknown): unknown {
  return err instanceof Error ? err.cause : undefined;
}

function stackOf(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = err; e !== undefined && !seen.has(e); e = causeOf(e)) {
    seen.add(e);
    parts.push(e instanceof Error && e.stack !== undefined ? e.stack : String(e));
  }
  return parts.join('\ncaused by: ');
}
