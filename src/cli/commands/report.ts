/**
 * `copa report PATH`: reads scanner reports the way `copa patch` does and prints what would be
 * patched, as a table or as Copa's v1alpha2 update manifest (which also makes it a reference for
 * scanner plugins' output).
 */
import { stat } from 'node:fs/promises';

import { CopaError } from '../../errors.js';
import { formatPlatform } from '../../image/index.js';
import type { Logger } from '../../log.js';
import { readReports, toUpdateManifestDocument, type UpdateManifest } from '../../report/index.js';
import { colorsFor } from '../colors.js';
import { exitCodeFor, ExitCode } from '../exit-code.js';
import type { OutputStream } from '../io.js';
import { printError } from '../print-error.js';

export type ReportFormat = 'json' | 'table';

export interface RunReportCommandOptions {
  /** `trivy`, `grype`, `native`, or the name of a `copa-<name>` plugin. */
  readonly scanner: string;
  readonly format: ReportFormat;
  /** Log detail and print error stacks on stderr. */
  readonly debug?: boolean;
}

export interface ReportCommandIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Environment for colours and scanner plugins, `process.env` by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
}

/**
 * Runs `copa report`: the normalised manifests on stdout (a JSON object for a file, an array for
 * a directory; or a table), logs and errors on stderr. Returns the exit code: 0 when the reports
 * were read, 1 when one could not be, 2 for a bad option.
 */
export async function runReportCommand(
  path: string,
  options: RunReportCommandOptions,
  io: ReportCommandIo,
): Promise<number> {
  const env = io.env ?? process.env;
  try {
    if (options.format !== 'json' && options.format !== 'table') {
      throw new CopaError(
        'USAGE',
        `reading option --format: "${String(options.format)}" is not json or table`,
        {
          hint: 'Use --format json or --format table.',
        },
      );
    }
    await checkReportPath(path);
    const manifests = await readReports(path, {
      scanner: options.scanner,
      logger: stderrLogger(io.stderr, options.debug === true),
      env: env as NodeJS.ProcessEnv,
      ...(io.signal ? { signal: io.signal } : {}),
    });
    io.stdout.write(
      options.format === 'json' ? formatJson(manifests, path) : formatTables(manifests),
    );
    return ExitCode.success;
  } catch (err) {
    printError(err, {
      stderr: io.stderr,
      debug: options.debug === true,
      colors: colorsFor(io.stderr, env),
    });
    return exitCodeFor(err);
  }
}

/** Throws a one-line `REPORT_INVALID` error with a hint when `path` does not exist. */
async function checkReportPath(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) {
    throw new CopaError('REPORT_INVALID', `reading report "${path}": the path does not exist`, {
      hint: 'Check the path: give a report file, or a directory with one report per platform.',
    });
  }
}

function stderrLogger(stderr: OutputStream, debug: boolean): Logger {
  return {
    debug: (m) => {
      if (debug) stderr.write(`debug: ${m}\n`);
    },
    info: (m) => stderr.write(`${m}\n`),
    warn: (m) => stderr.write(`warning: ${m}\n`),
  };
}

/** One manifest for a report file, an array of them for a directory. */
function formatJson(manifests: readonly UpdateManifest[], path: string): string {
  const documents = manifests.map(toUpdateManifestDocument);
  const single = manifests.length === 1 && manifests[0]!.source === path;
  return `${JSON.stringify(single ? documents[0] : documents, null, 2)}\n`;
}

/** One section per report: platform, OS, updates, unfixable findings, language packages. */
export function formatTables(manifests: readonly UpdateManifest[]): string {
  return manifests.map(formatTable).join('\n');
}

function formatTable(m: UpdateManifest): string {
  const lines = [
    `report: ${m.source} (${m.scanner})`,
    `platform: ${m.platform ? formatPlatform(m.platform) : 'not named in the report'}`,
    `os: ${m.os.family} ${m.os.version}`.trimEnd(),
  ];
  if (m.updates.length === 0) lines.push('packages to update: none');
  else {
    lines.push(`packages to update (${m.updates.length}):`);
    const rows = m.updates.map((u) => [
      u.name,
      u.installedVersion,
      u.fixedVersion,
      u.vulnerabilityIds.join(', '),
    ]);
    lines.push(...columns([['PACKAGE', 'INSTALLED', 'REQUIRED', 'VULNERABILITIES'], ...rows]));
  }
  if (m.unfixable.length > 0) {
    lines.push(`not fixable, no fixed version known (${m.unfixable.length}):`);
    const rows = m.unfixable.map((f) => [f.name, f.installedVersion, f.vulnerabilityId]);
    lines.push(...columns([['PACKAGE', 'INSTALLED', 'VULNERABILITY'], ...rows]));
  }
  if (m.languagePackages.length > 0) {
    lines.push(
      `language packages: ${m.languagePackages.length} findings, ` +
        'not patched yet (copa patches OS packages only)',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Left-aligned columns, two spaces apart, indented by two. */
function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const pad = (cell: string, i: number, row: readonly string[]): string =>
    i === row.length - 1 ? cell : cell.padEnd(widths[i]!);
  return rows.map((r) => `  ${r.map((cell, i) => pad(cell, i, r)).join('  ')}`.trimEnd());
}
