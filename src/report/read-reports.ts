import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { CopaError } from '../errors.js';
import { formatPlatform, normalizePlatform } from '../image/index.js';
import { silentLogger } from '../log.js';
import { platformFromFileName } from './platform-from-file-name.js';
import { readReport, type ReadReportOptions } from './read-report.js';
import type { UpdateManifest } from './types.js';

/**
 * Reads the report at `path`, or every `*.json` report in the directory `path` (one per
 * platform, in file-name order; other entries are skipped with a debug line). A file gives one
 * manifest, whose platform may be unknown. In a directory each report's platform comes from its
 * metadata or, failing that, its file name (`linux-arm64.json`, `arm64.json`,
 * `linux-arm-v7.json`), and two reports may not name the same platform (`linux/arm64` is
 * `linux/arm64/v8`, `linux/arm` is `linux/arm/v7`).
 *
 * Throws a `CopaError` naming the path: `REPORT_INVALID` (missing path, empty directory, or an
 * error of {@link readReport}), `REPORT_PLATFORM_UNKNOWN`, `REPORT_CONFLICT` naming both files.
 */
export async function readReports(
  path: string,
  options: ReadReportOptions = {},
): Promise<UpdateManifest[]> {
  if (!(await isDirectory(path))) return [await readReport(path, options)];

  const files = await listReports(path, options);
  const manifests: UpdateManifest[] = [];
  const byPlatform = new Map<string, string>();
  for (const file of files) {
    const manifest = withPlatform(await readReport(file, options), file);
    const key = formatPlatform(manifest.platform!);
    const previous = byPlatform.get(key);
    if (previous !== undefined) {
      throw new CopaError(
        'REPORT_CONFLICT',
        `reading reports in "${path}": "${previous}" and "${file}" are both for ${key}`,
        { hint: 'Keep one report per platform in the directory.' },
      );
    }
    byPlatform.set(key, file);
    manifests.push(manifest);
  }
  return manifests;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file or directory' : (err as Error).message;
    throw new CopaError('REPORT_INVALID', `reading reports "${path}": ${reason}`, { cause: err });
  }
}

async function listReports(dir: string, options: ReadReportOptions): Promise<string[]> {
  const logger = options.logger ?? silentLogger;
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const file = join(dir, entry.name);
    if (entry.isFile() && entry.name.toLowerCase().endsWith('.json')) files.push(file);
    else logger.debug(`reading reports in "${dir}": skipping "${entry.name}", not a .json file`);
  }
  if (files.length === 0) {
    throw new CopaError('REPORT_INVALID', `reading reports in "${dir}": no *.json report found`, {
      hint:
        'Put one report per platform in the directory, ' +
        'for example linux-amd64.json and linux-arm64.json.',
    });
  }
  return files;
}

function withPlatform(manifest: UpdateManifest, file: string): UpdateManifest {
  if (manifest.platform !== undefined) {
    return { ...manifest, platform: normalizePlatform(manifest.platform) };
  }
  const platform = platformFromFileName(file);
  if (platform !== undefined) return { ...manifest, platform };
  throw new CopaError(
    'REPORT_PLATFORM_UNKNOWN',
    `reading report "${file}": neither the report nor its file name names a platform`,
    {
      hint: 'Name the file after its platform, for example linux-arm64.json or linux-arm-v7.json.',
    },
  );
}
