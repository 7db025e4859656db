import { readFile } from 'node:fs/promises';

import { CopaError, isCopaError } from '../errors.js';
import type { Logger } from '../log.js';
import { isGrypeDocument, parseGrypeReport } from './grype.js';
import { isJsonObject } from './json-fields.js';
import { isUpdateManifestDocument, parseUpdateManifest } from './native.js';
import { runScannerPlugin } from './run-scanner-plugin.js';
import { isTrivyDocument, parseTrivyReport } from './trivy.js';
import type { UpdateManifest } from './types.js';

/** The report formats copa reads itself; any other scanner name runs a `copa-<name>` plugin. */
export const builtInScanners = ['trivy', 'grype', 'native'] as const;

export interface ReadReportOptions {
  /** `trivy` (the default), `grype`, `native`, or the name of a `copa-<name>` plugin. */
  readonly scanner?: string;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
  /** Environment of scanner plugins, `process.env` by default. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Reads one scanner report and normalises it. The scanner decides the format: built-in parsers
 * for `trivy`, `grype` and `native` (Copa's update manifest), otherwise the plugin
 * `copa-<scanner> <path>` is run and its output read as an update manifest.
 *
 * Throws a `CopaError` naming the file: `REPORT_INVALID` (missing, unreadable, not JSON, not
 * the format), `REPORT_FORMAT_UNSUPPORTED` (another scanner's format, or an unknown version),
 * `OS_UNSUPPORTED`, `PLUGIN_FAILED`.
 *
 * @example
 * const manifest = await readReport('scan.json', { scanner: 'trivy' });
 * for (const u of manifest.updates) console.log(u.name, u.fixedVersion);
 */
export async function readReport(
  path: string,
  options: ReadReportOptions = {},
): Promise<UpdateManifest> {
  const scanner = options.scanner ?? 'trivy';
  const parseOptions = { source: path, ...(options.logger ? { logger: options.logger } : {}) };
  if (!(builtInScanners as readonly string[]).includes(scanner)) {
    const output = await runScannerPlugin(scanner, path, options);
    return parsePluginOutput(output, scanner, parseOptions);
  }

  const doc = parseJson(await readText(path), path);
  refuseOtherFormat(doc, scanner, path);
  if (scanner === 'grype') return parseGrypeReport(doc, parseOptions);
  if (scanner === 'native') return parseUpdateManifest(doc, parseOptions);
  return parseTrivyReport(doc, parseOptions);
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : (err as Error).message;
    throw new CopaError('REPORT_INVALID', `reading report "${path}": ${reason}`, { cause: err });
  }
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CopaError(
      'REPORT_INVALID',
      `reading report "${path}": not valid JSON (${(err as Error).message})`,
      { hint: 'The file may be truncated: write the report again.', cause: err },
    );
  }
}

const isOpenVexDocument = (doc: unknown): boolean =>
  isJsonObject(doc) && '@context' in doc && Array.isArray(doc.statements);

const formatNames: readonly (readonly [string, (doc: unknown) => boolean])[] = [
  ['trivy', isTrivyDocument],
  ['grype', isGrypeDocument],
  ['native', isUpdateManifestDocument],
];

/** Names the right `--scanner` when the file is clearly another built-in format. */
function refuseOtherFormat(doc: unknown, scanner: string, path: string): void {
  if (isOpenVexDocument(doc)) {
    throw new CopaError(
      'REPORT_FORMAT_UNSUPPORTED',
      `reading report "${path}": it is an OpenVEX document, not a scanner report`,
      { hint: 'Pass the scanner report of the image (for example `trivy image -f json`).' },
    );
  }
  const own = formatNames.find(([name]) => name === scanner)?.[1];
  if (own === undefined || own(doc)) return;
  const other = formatNames.find(([name, is]) => name !== scanner && is(doc))?.[0];
  if (other === undefined) return;
  throw new CopaError(
    'REPORT_FORMAT_UNSUPPORTED',
    `reading report "${path}": it is a ${other} report, not ${scanner}`,
    { hint: `Read it with --scanner ${other}.` },
  );
}

function parsePluginOutput(
  output: string,
  scanner: string,
  options: { source: string; logger?: Logger },
): UpdateManifest {
  const context = `reading the output of scanner plugin "copa-${scanner}" for "${options.source}"`;
  let doc: unknown;
  try {
    doc = JSON.parse(output) as unknown;
  } catch (err) {
    throw new CopaError('PLUGIN_FAILED', `${context}: not a JSON update manifest`, {
      hint: `copa-${scanner} must print a v1alpha1 or v1alpha2 update manifest on stdout.`,
      cause: err,
    });
  }
  try {
    return parseUpdateManifest(doc, { ...options, scanner });
  } catch (err) {
    if (isCopaError(err, 'OS_UNSUPPORTED')) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new CopaError('PLUGIN_FAILED', `${context}: ${reason}`, {
      hint: isCopaError(err) ? err.hint : undefined,
      cause: err,
    });
  }
}
