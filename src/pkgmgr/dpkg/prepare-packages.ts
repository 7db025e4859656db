/**
 * Downloading and opening the planned packages: verified `.deb` from the repositories, control
 * members in memory, data spooled to the run's scratch directory.
 */
import { join } from 'node:path';

import { CopaError, wrapError } from '../../errors.js';
import type { AptRepositories } from './apt/index.js';
import { parseControl } from './control.js';
import { readControlMembers } from './deb-archive.js';
import type { InstalledPackage } from './dpkg-database.js';
import type { PreparedPackage } from './prepared-package.js';
import type { PlannedPackage } from './resolve.js';
import { spoolData } from './spool-data.js';

const PARALLEL_DOWNLOADS = 4;
/** Packages spooled at once: xz decoding runs on the thread pool, parsing on the main thread. */
const PARALLEL_OPENS = 2;

export interface PrepareOptions {
  readonly planned: readonly PlannedPackage[];
  readonly repositories: Pick<AptRepositories, 'download'>;
  /** The installed instance of each planned upgrade, by `name:arch` of the old stanza. */
  readonly installed: ReadonlyMap<string, InstalledPackage>;
  readonly workDir: string;
  readonly signal?: AbortSignal;
}

/**
 * Downloads (a few at a time) and opens each planned package; packages are opened while the
 * next ones download. Stops soon after the signal is aborted, with its reason. Throws the
 * repository's `REPOSITORY_HASH_MISMATCH`/`REPOSITORY_UNAVAILABLE`, or `PACKAGE_INVALID` when a
 * package is not the one the index described.
 */
export async function preparePackages(options: PrepareOptions): Promise<PreparedPackage[]> {
  const { planned, repositories, signal } = options;
  const downloads: Promise<string>[] = [];
  const startDownload = (): void => {
    const p = planned[downloads.length]!;
    const download = repositories
      .download(p.record, signal === undefined ? {} : { signal })
      .catch((err: unknown) => {
        signal?.throwIfAborted();
        throw wrapError(`downloading "${p.record.name}" ${p.record.version}`, err);
      });
    download.catch(() => undefined);
    downloads.push(download);
  };
  while (downloads.length < Math.min(PARALLEL_DOWNLOADS, planned.length)) startDownload();

  const out: PreparedPackage[] = new Array<PreparedPackage>(planned.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < planned.length && !failed) {
      signal?.throwIfAborted();
      const i = next++;
      while (downloads.length <= i) startDownload();
      try {
        const debPath = await downloads[i]!;
        if (downloads.length < planned.length) startDownload();
        out[i] = await openPackage(planned[i]!, debPath, options, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const workers = Array.from({ length: Math.min(PARALLEL_OPENS, planned.length) }, worker);
  // Every worker has stopped before the first failure is thrown: none is left writing.
  const settled = await Promise.allSettled(workers);
  const failure = settled.find((r) => r.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  return out;
}

async function openPackage(
  planned: PlannedPackage,
  debPath: string,
  options: PrepareOptions,
  index: number,
): Promise<PreparedPackage> {
  const { record, old } = planned;
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  const control = await readControlMembers(debPath, signal);
  const stanza = parseControl(Buffer.from(control.get('control')!.bytes).toString('utf8'))[0];
  const field = (name: string): string | undefined =>
    stanza?.fields.find((f) => f.name.toLowerCase() === name)?.value;
  if (
    stanza === undefined ||
    field('package') !== record.name ||
    field('version') !== record.version
  ) {
    throw new CopaError(
      'PACKAGE_INVALID',
      `opening "${record.name}" ${record.version}: its control file names "${field('package')}" ${field('version')}`,
      { hint: 'The repository index and the package disagree; report it to the repository.' },
    );
  }
  const dir = join(options.workDir, 'dpkg-unpack', String(index));
  const members = await spoolData(debPath, dir, signal);
  const arch = field('architecture') ?? record.architecture;
  return {
    name: record.name,
    arch,
    version: record.version,
    multiArch: field('multi-arch'),
    controlFields: stanza.fields,
    control,
    members,
    replaces: record.replaces,
    old: old === undefined ? undefined : options.installed.get(`${old.name}:${old.arch}`),
  };
}
