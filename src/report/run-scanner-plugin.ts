import { execFile, type ExecFileException } from 'node:child_process';

import { CopaError } from '../errors.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';

export interface RunScannerPluginOptions {
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
  /** Environment of the plugin, `process.env` by default (its `PATH` finds the plugin). */
  readonly env?: NodeJS.ProcessEnv;
}

const pluginName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const maxOutputBytes = 256 * 1024 * 1024;

/** Reports whether `scanner` can name a plugin: letters, digits, `.`, `_` and `-`. */
export function isValidScannerName(scanner: string): boolean {
  return pluginName.test(scanner);
}

/**
 * Runs the scanner plugin `copa-<scanner> <reportPath>` found on `PATH` and returns what it
 * printed on stdout (an update manifest, by the plugin protocol). Its stderr is logged at debug.
 * Unlike Copa, which reads stdout and stderr combined, only stdout is the manifest.
 *
 * Throws a `CopaError` with code `PLUGIN_FAILED` naming the plugin and the report when the plugin
 * is not on `PATH`, cannot run or exits with a non-zero status; `USAGE` for a name that cannot
 * be a program name.
 */
export async function runScannerPlugin(
  scanner: string,
  reportPath: string,
  options: RunScannerPluginOptions = {},
): Promise<string> {
  if (!isValidScannerName(scanner)) {
    throw new CopaError(
      'USAGE',
      `reading report "${reportPath}": scanner name "${scanner}" is not valid`,
      {
        hint: 'Use trivy, grype, native, or the name of a copa-<name> plugin on PATH.',
      },
    );
  }
  const program = `copa-${scanner}`;
  const logger = options.logger ?? silentLogger;
  logger.debug(`running scanner plugin "${program}" on "${reportPath}"`);
  return new Promise((resolve, reject) => {
    execFile(
      program,
      [reportPath],
      { encoding: 'utf8', maxBuffer: maxOutputBytes, signal: options.signal, env: options.env },
      (err, stdout, stderr) => {
        for (const line of stderr.split('\n').filter((l) => l.trim() !== '')) {
          logger.debug(`${program}: ${line}`);
        }
        if (err === null) resolve(stdout);
        else reject(pluginError(program, reportPath, err, stderr));
      },
    );
  });
}

function pluginError(
  program: string,
  reportPath: string,
  err: ExecFileException,
  stderr: string,
): CopaError {
  const context = `running scanner plugin "${program}" on "${reportPath}"`;
  if (err.code === 'ENOENT') {
    return new CopaError('PLUGIN_FAILED', `${context}: "${program}" is not on PATH`, {
      hint:
        `Install ${program} on PATH, ` +
        'or choose a built-in format with --scanner trivy, grype or native.',
      cause: err,
    });
  }
  const lastLine = stderr.trim().split('\n').at(-1)?.trim();
  const status = typeof err.code === 'number' ? `exited with status ${err.code}` : err.message;
  return new CopaError('PLUGIN_FAILED', `${context}: ${status}${lastLine ? `: ${lastLine}` : ''}`, {
    cause: err,
  });
}
