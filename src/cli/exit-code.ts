import { isCopaError } from '../errors.js';

/** The exit codes of `copa`: scripts rely on them, so they never change. */
export const ExitCode = Object.freeze({
  /** The command did what was asked, including "nothing to patch". */
  success: 0,
  /** The operation failed, was cancelled or timed out. */
  failure: 1,
  /** The command line was wrong: unknown command or flag, missing or bad value. */
  usage: 2,
});

/** The exit code for an error that ended a command. */
export function exitCodeFor(err: unknown): number {
  return isCopaError(err, 'USAGE') ? ExitCode.usage : ExitCode.failure;
}
