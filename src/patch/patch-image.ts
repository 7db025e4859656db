import { rmSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

import { CopaError, wrapError } from '../errors.js';
import {
  formatPlatform,
  hostPlatform,
  isImageIndex,
  type Descriptor,
  type Image,
  type ImageIndex,
  type Platform,
} from '../image/index.js';
import { prefixLogger, silentLogger, type Logger } from '../log.js';
import type { UpdateManifest } from '../report/types.js';
import { assembleIndex, patchTime } from './assemble-index.js';
import { patchPlatform, type PackagePatcher, type PlatformOutcome } from './patch-platform.js';
import { planPlatforms, type PlatformPlan } from './plan-platforms.js';
import type { PatchSource } from './open-source.js';
import { RunProgress } from './run-progress.js';
import { checkPublishTarget, type PublishResult, type PublishRequest } from './publish.js';
import type { PatchContext, PatchImageOptions, PatchSummary, PlatformSummary } from './types.js';

/** What a run is built from; the defaults are the real implementations. */
export interface PatchDeps {
  readonly openSource: (image: string, ctx: RunContext) => Promise<PatchSource>;
  readonly readReports: (
    path: string,
    scanner: string,
    ctx: RunContext,
  ) => Promise<UpdateManifest[]>;
  readonly patchers: ReadonlyMap<string, PackagePatcher>;
  readonly publish: (request: PublishRequest, ctx: RunContext) => Promise<PublishResult>;
  readonly writeVex?: (
    summary: PatchSummary,
    reports: readonly UpdateManifest[],
    path: string,
  ) => Promise<void>;
}

/** The context handed to the parts of a run. */
export interface RunContext {
  readonly logger: Logger;
  readonly signal: AbortSignal | undefined;
  readonly workDir: string;
  /** Reports reads, writes and uploads of blobs, and the long phases. */
  readonly progress: RunProgress;
}

/**
 * Raised when a platform failed and the run stopped before writing any tag; `summary` holds
 * every platform's outcome, for the caller to print.
 */
export class PatchFailedError extends CopaError {
  readonly summary: PatchSummary;

  constructor(message: string, summary: PatchSummary, hint: string) {
    super('PATCH_FAILED', message, { hint });
    this.name = 'PatchFailedError';
    this.summary = summary;
  }
}

interface Planned {
  readonly entries: readonly Descriptor[];
  readonly plans: readonly PlatformPlan[];
  /** One platform's image is the result (a report file, or a single-platform source). */
  readonly single: boolean;
}

/**
 * Runs one patch with explicit parts; {@link patchImage} is this with the default parts.
 */
export async function runPatch(
  options: PatchImageOptions,
  ctx: PatchContext,
  deps: PatchDeps,
): Promise<PatchSummary> {
  const logger = ctx.logger ?? silentLogger;
  const workDir = await mkdtemp(join(options.workingFolder ?? tmpdir(), 'copa-'));
  const progress = new RunProgress(ctx.progress);
  const run: RunContext = { logger, signal: ctx.signal, workDir, progress };
  const work = runInWorkDir(options, run, deps);
  // A caller that exits before a cancelled part stops must not leave the folder behind.
  const removeOnExit = () => rmSync(workDir, { recursive: true, force: true });
  if (!options.debug) process.on('exit', removeOnExit);
  try {
    return await settleAfterAbort(work, ctx.signal);
  } catch (err) {
    if (ctx.signal?.aborted) throw abortError(ctx.signal, err);
    throw err;
  } finally {
    if (options.debug) logger.warn(`keeping the working folder "${workDir}": remove it by hand`);
    else {
      await rm(workDir, { recursive: true, force: true });
      // A part that ignored the abort may write on: remove the folder again once it stops.
      void work
        .catch(() => undefined)
        .then(() => rm(workDir, { recursive: true, force: true }))
        .catch(() => undefined)
        .finally(() => process.off('exit', removeOnExit));
    }
  }
}

async function runInWorkDir(
  options: PatchImageOptions,
  run: RunContext,
  deps: PatchDeps,
): Promise<PatchSummary> {
  if (options.output !== undefined && options.report === undefined) {
    run.logger.warn('writing no VEX document: no vulnerability report was given');
  }
  warnUnsupported(options, run.logger);
  const reportKind =
    options.report === undefined ? undefined : await reportPathKind(options.report);
  const source = await deps.openSource(options.image, run);
  // A name that cannot be derived, or a push with nowhere to go, fails before any work.
  checkPublishTarget(source, options);
  const reports =
    options.report === undefined
      ? []
      : await deps.readReports(options.report, options.scanner, run);
  if (reportKind === 'dir' && (options.platforms?.length ?? 0) > 0) {
    run.logger.info('ignoring --platform: the report directory decides the platforms');
  }
  const planned = await planSource(source.top, options, reports, reportKind, run.logger);
  // One time for the whole run: the layers, configs, manifests and index entries agree.
  const created = patchTime();
  const results = await runPlans(planned, source, options, run, deps, created);
  const summaryBase = { source: options.image, pushed: false, vexFile: undefined };
  const failures = results.filter((r) => r.summary.status === 'failed');
  const attempted = results.filter((r) => r.plan.action === 'patch');
  if (failures.length > 0 && !options.ignoreErrors) {
    throw new PatchFailedError(
      `patching "${options.image}": ${failedNames(failures)} failed`,
      emptySummary(summaryBase, results),
      failureHint(failures, attempted.length),
    );
  }
  const ignored = results.filter((r) => r.summary.status === 'ignored');
  if (attempted.length > 0 && ignored.length === attempted.length) {
    throw new PatchFailedError(
      `patching "${options.image}": ${failedNames(ignored)} failed`,
      emptySummary(summaryBase, results),
      ignored.every((r) => r.code === 'OS_UNSUPPORTED')
        ? unsupportedHint
        : 'Nothing was written. Fix the cause above.',
    );
  }
  if (!results.some((r) => r.image !== undefined)) {
    run.logger.info('image is already up to date: no patch was applied');
    return { ...emptySummary(summaryBase, results), upToDate: true };
  }
  const result = await buildResult(planned, source, results, created);
  const published = await deps.publish(
    {
      source,
      result: result.top,
      keptDigests: results.flatMap((r) =>
        r.image === undefined && r.summary.status !== 'failed' ? [r.plan.descriptor.digest] : [],
      ),
      platformImages: results.flatMap((r) =>
        r.image === undefined ? [] : [{ platform: r.summary.platform, image: r.image }],
      ),
      options,
    },
    run,
  );
  const summary: PatchSummary = {
    ...summaryBase,
    target: published.target,
    digest: published.digest,
    reference: `${published.target}@${published.digest}`,
    platforms: results.map((r) => r.summary),
    upToDate: false,
    pushed: published.pushed,
    ociDir: published.ociDir,
    loaded: published.loaded,
    commands: published.commands,
    droppedAttestations: result.droppedAttestations,
  };
  if (options.output !== undefined && reports.length > 0 && deps.writeVex !== undefined) {
    await deps.writeVex(summary, reports, options.output);
    return { ...summary, vexFile: options.output };
  }
  return summary;
}

function failedNames(failures: readonly PlanResult[]): string {
  return failures.map((r) => formatPlatform(r.summary.platform)).join(', ');
}

const unsupportedHint =
  'Nothing was written. copa patches only Debian and Ubuntu images (dpkg); give a report of such an image.';

/** The hint of a failed run: an OS copa cannot patch is not fixed by trying again. */
function failureHint(failures: readonly PlanResult[], attempted: number): string {
  if (failures.every((r) => r.code === 'OS_UNSUPPORTED')) return unsupportedHint;
  return attempted > 1
    ? 'Nothing was written. Fix the cause above, or pass --ignore-errors to keep the other platforms.'
    : 'Nothing was written. Fix the cause above, or pass --ignore-errors to keep the image as it is.';
}

function warnUnsupported(options: PatchImageOptions, logger: Logger): void {
  // TODO: existing layers are never re-encoded; --force-compression only affects the new layer.
  if (options.forceCompression)
    logger.warn('ignoring --force-compression: existing layers are kept as they are');
}

function emptySummary(
  base: Pick<PatchSummary, 'source' | 'pushed' | 'vexFile'>,
  results: readonly PlanResult[],
): PatchSummary {
  return {
    ...base,
    target: undefined,
    digest: undefined,
    reference: undefined,
    platforms: results.map((r) => r.summary),
    upToDate: false,
    ociDir: undefined,
    loaded: [],
    commands: [],
    droppedAttestations: [],
  };
}

async function reportPathKind(path: string): Promise<'file' | 'dir'> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) {
    throw new CopaError('REPORT_INVALID', `reading report "${path}": the path does not exist`, {
      hint: 'Give a report file, or a directory with one report per platform.',
    });
  }
  return info.isDirectory() ? 'dir' : 'file';
}

async function planSource(
  top: Image | ImageIndex,
  options: PatchImageOptions,
  reports: readonly UpdateManifest[],
  reportKind: 'file' | 'dir' | undefined,
  logger: Logger,
): Promise<Planned> {
  const entries = isImageIndex(top)
    ? (await top.indexManifest()).manifests
    : [await singleImageDescriptor(top)];
  if (reportKind === 'file') return planReportFile(entries, reports, logger);
  const mode =
    reportKind === 'dir'
      ? ({ kind: 'reports', reports } as const)
      : ({ kind: 'all', platforms: options.platforms } as const);
  const plans = planPlatforms(entries, mode, logger);
  if (mode.kind === 'all' && (options.platforms?.length ?? 0) > 0) {
    if (!plans.some((p) => p.action === 'patch')) {
      const names = (options.platforms ?? []).map(formatPlatform).join(', ');
      throw new CopaError(
        'PLATFORM_NOT_FOUND',
        `patching "${options.image}": none of the platforms ${names} is in the image`,
        {
          hint: 'Name platforms the image has, or leave --platform out.',
        },
      );
    }
  }
  return { entries, plans, single: !isImageIndex(top) };
}

async function singleImageDescriptor(image: Image): Promise<Descriptor> {
  const config = await image.configFile();
  const platform: Platform = {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant === undefined ? {} : { variant: config.variant }),
  };
  const raw = await image.rawManifest();
  return {
    mediaType: await image.mediaType(),
    digest: await image.digest(),
    size: raw.length,
    platform,
  };
}

/** A report file patches one platform: the report's, else the host's. */
function planReportFile(
  entries: readonly Descriptor[],
  reports: readonly UpdateManifest[],
  logger: Logger,
): Planned {
  const report = reports[0];
  if (report === undefined)
    throw new CopaError('REPORT_INVALID', 'reading report: it holds no report');
  const want = report.platform ?? hostPlatform();
  const plans = planPlatforms(
    entries,
    { kind: 'reports', reports: [{ ...report, platform: want }] },
    logger,
  );
  const chosen = plans.find((p) => p.action !== 'keep');
  if (chosen === undefined) {
    throw new CopaError(
      'PLATFORM_NOT_FOUND',
      `patching for report "${report.source}": the image has no platform "${formatPlatform(want)}"`,
      {
        hint: 'Patch the image the report was made from, or give a report directory for several platforms.',
      },
    );
  }
  return { entries, plans: [chosen], single: true };
}

interface PlanResult {
  readonly plan: PlatformPlan;
  readonly summary: PlatformSummary;
  readonly image: Image | undefined;
  /** The code of the error that failed the platform. */
  readonly code?: string | undefined;
}

async function runPlans(
  planned: Planned,
  source: PatchSource,
  options: PatchImageOptions,
  run: RunContext,
  deps: PatchDeps,
  created: string,
): Promise<PlanResult[]> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const todo = planned.plans.filter(
    (p) => !(p.action === 'keep' && (p.reason === 'attestation' || p.reason === 'not an image')),
  );
  return mapConcurrent(todo, options.concurrency ?? 2, async (plan, i) => {
    const platform = plan.platform as Platform;
    const logger = prefixLogger(run.logger, formatPlatform(platform));
    if (plan.action !== 'patch') return keptResult(plan, platform);
    const image = isImageIndex(source.top)
      ? await source.top.image(plan.descriptor.digest)
      : source.top;
    try {
      const outcome = await patchPlatform({
        image,
        platform,
        request: plan.request,
        report: plan.report,
        patchers: deps.patchers,
        compression: options.compression,
        created,
        cacheDir,
        workDir: join(run.workDir, `platform-${i}`),
        ignoreErrors: options.ignoreErrors,
        repositories: options.repositories,
        progress: run.progress,
        logger,
        signal: run.signal,
      });
      return { plan, ...unfixedAsFailed(outcome, options.ignoreErrors, logger) };
    } catch (err) {
      if (run.signal?.aborted) throw err;
      const name = formatPlatform(platform);
      const error = wrapError(`patching ${name}`, err);
      // The summary names the platform and gives the reason: logged here it would be said twice.
      const reason = withoutPrefix(withoutPrefix(error.message, `patching ${name}: `), `${name}: `);
      logger.debug(`${options.ignoreErrors ? 'ignoring the failure' : 'failed'}: ${reason}`);
      const failed = failedResult(plan, platform, options.ignoreErrors, reason);
      return { ...failed, code: error.code };
    }
  });
}

function withoutPrefix(message: string, prefix: string): string {
  let rest = message;
  while (rest.startsWith(prefix)) rest = rest.slice(prefix.length);
  return rest;
}

/**
 * A platform where no package was updated and some failed (with ignoreErrors) is not up to
 * date: it is ignored, and its packages stay vulnerable.
 */
function unfixedAsFailed(
  outcome: PlatformOutcome,
  ignoreErrors: boolean,
  logger: Logger,
): PlatformOutcome {
  const { summary } = outcome;
  if (summary.status !== 'up to date' || summary.failed.length === 0) return outcome;
  const names = summary.failed.map((f) => `"${f.name}"`).join(', ');
  const message = `left unpatched: ${names} could not be updated`;
  logger.warn(message);
  return {
    image: undefined,
    summary: { ...summary, status: ignoreErrors ? 'ignored' : 'failed', message },
  };
}

function keptResult(plan: PlatformPlan, platform: Platform): PlanResult {
  const status = plan.action === 'up to date' ? 'up to date' : 'kept: no report';
  return {
    plan,
    image: undefined,
    summary: {
      platform,
      status,
      sourceDigest: plan.descriptor.digest,
      digest: plan.descriptor.digest,
      updated: [],
      failed: [],
      fixedVulnerabilities: [],
      scriptsNotRun: [],
      ...(plan.action === 'keep' && plan.reason === 'not selected'
        ? { message: 'not selected' }
        : {}),
    },
  };
}

function failedResult(
  plan: PlatformPlan,
  platform: Platform,
  ignored: boolean,
  message: string,
): PlanResult {
  const requested =
    plan.action === 'patch' && plan.request.kind === 'packages' ? plan.request.packages : [];
  return {
    plan,
    image: undefined,
    summary: {
      platform,
      status: ignored ? 'ignored' : 'failed',
      sourceDigest: plan.descriptor.digest,
      digest: ignored ? plan.descriptor.digest : undefined,
      updated: [],
      failed: requested.map((r) => ({ ...r, reason: message })),
      fixedVulnerabilities: [],
      scriptsNotRun: [],
      message,
    },
  };
}

async function buildResult(
  planned: Planned,
  source: PatchSource,
  results: readonly PlanResult[],
  created: string,
): Promise<{ top: Image | ImageIndex; droppedAttestations: readonly string[] }> {
  if (planned.single || !isImageIndex(source.top)) {
    const patched = results.find((r) => r.image !== undefined)?.image as Image;
    return { top: patched, droppedAttestations: [] };
  }
  const patched = new Map<string, Image>();
  for (const r of results)
    if (r.image !== undefined) patched.set(r.plan.descriptor.digest, r.image);
  const from = `${source.name}@${await source.top.digest()}`;
  const assembled = await assembleIndex(source.top, patched, { created, from });
  return { top: assembled.index, droppedAttestations: assembled.droppedAttestations };
}

function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'copa');
}

/** How long a run waits for its parts to stop after an abort before it gives up on them. */
const abortGraceMs = 1000;

/**
 * Waits for `work`; once `signal` aborts, at most {@link abortGraceMs} more, so that a part that
 * does not honour the signal cannot keep a cancelled run from ending.
 */
function settleAfterAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      timer = setTimeout(() => reject(signal.reason), abortGraceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  });
}

function abortError(signal: AbortSignal, cause: unknown): CopaError {
  const reason: unknown = signal.reason;
  if (reason instanceof CopaError) return reason;
  const timeout = reason instanceof Error && reason.name === 'TimeoutError';
  return new CopaError(
    timeout ? 'TIMEOUT' : 'CANCELLED',
    timeout ? 'patching: the time limit passed' : 'patching: cancelled',
    {
      cause,
      hint: 'Nothing was tagged; temporary files were removed.',
    },
  );
}

async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
