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

export interface PrepareOptions {
  readonly planned: readonly PlannedPackage[];
  readonly repositories: Pick<AptRepositories, 'download'>;
  /** The installed instance of each planned upgrade, by `name:arch` of the old stanza. */
  readonly installed: ReadonlyMap<string, InstalledPackage>;
  readonly workDir: string;
  readonly signal?: AbortSignal;
}

/**
 * Downloads (a few at a time) and opens each planned package; a package is opened while the
 * next ones download. Stops soon after the signal is aborted, with its reason. Throws the repository's
 * `REPOSITORY_HASH_MISMATCH`/`REPOSITORY_UNAVAILABLE`, or `PACKAGE_INVALID` when a package is
 * not the one the index described.
 */
export async function preparePackages(options: PrepareOptions): Promise<PreparedPackage[]> {
  const { planned, repositories, signal } = options;
  let next = 0;
  const started: Promise<string>[] = new Array<Promise<string>>(planned.length);
  const start = (i: number): Promise<string> => {
    const p = planned[i]!;
    const download = repositories.download(p.record, signal === undefined ? {} : { signal });
    started[i] = download.catch((err: unknown) => {
      signal?.throwIfAborted();
      throw wrapError(`downloading "${p.record.name}" ${p.record.version}`, err);
    });
    started[i]!.catch(() => undefined);
    return started[i]!;
  };
  for (; next < Math.min(PARALLEL_DOWNLOADS, planned.length); next += 1) void start(next);
  const out: PreparedPackage[] = [];
  for (let i = 0; i < planned.length; i += 1) {
    signal?.throwIfAborted();
    const debPath = await (started[i] ?? start(i));
    if (next < planned.length) void start(next++);
    out.push(await openPackage(planned[i]!, debPath, options, i));
  }
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
