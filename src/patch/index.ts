/**
 * Patching images: plan per platform, patch each from its report (or every upgradable
 * package), write one new layer per platform, and publish the result as an index (or image)
 * whose tag is written last.
 *
 * @example
 * const summary = await patchImage(
 *   { image: '127.0.0.1:5000/app:1.2', report: 'reports/', push: true, ignoreErrors: false,
 *     scanner: 'trivy', compression: 'gzip' },
 *   { logger },
 * );
 * console.log(summary.reference);
 */
import { silentLogger } from '../log.js';
import { patchDpkg } from '../pkgmgr/dpkg/index.js';
import { RegistryClient } from '../registry/index.js';
import { readReports } from '../report/index.js';
import { openSource } from './open-source.js';
import { runPatch, type PatchDeps } from './patch-image.js';
import type { PackagePatcher } from './patch-platform.js';
import { publish } from './publish.js';
import type { PatchContext, PatchImageOptions, PatchSummary } from './types.js';
import { writeVex } from './write-vex.js';

export type {
  PatchContext,
  PatchImageOptions,
  PatchSummary,
  PlatformStatus,
  PlatformSummary,
} from './types.js';
export { PatchFailedError, runPatch, type PatchDeps, type RunContext } from './patch-image.js';
export type { PackagePatcher, PackagePatcherOptions } from './patch-platform.js';
export { resolveTargetReference, platformTag } from './target-reference.js';
export { patchLayerComment } from './patch-history.js';
export { patchedAnnotation, patchedFromAnnotation } from './assemble-index.js';

/** The package managers copa patches with, by OS family. */
export const defaultPatchers: ReadonlyMap<string, PackagePatcher> = new Map([
  ['debian', patchDpkg],
  ['ubuntu', patchDpkg],
]);

/**
 * Patches an image as `copa patch` does and returns the summary. The source is never changed;
 * with `push` the tag is written only after every blob and manifest it needs is in the
 * registry, and only when every platform succeeded (or `ignoreErrors`). Nothing to fix gives a
 * summary with `upToDate` and writes nothing.
 *
 * Throws a `CopaError`: `USAGE` for options that cannot work together, {@link PatchFailedError}
 * (`PATCH_FAILED`, with the summary) when platforms failed, `TIMEOUT` or `CANCELLED` when
 * `signal` aborts, and the codes of the registry, layout, report and package modules.
 */
export async function patchImage(
  options: PatchImageOptions,
  ctx: PatchContext = {},
): Promise<PatchSummary> {
  const logger = ctx.logger ?? silentLogger;
  const client = new RegistryClient({ logger, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  const deps: PatchDeps = {
    openSource: (image, run) =>
      openSource(image, {
        client,
        loader: options.loader,
        workDir: run.workDir,
        logger: run.logger,
        signal: run.signal,
      }),
    readReports: (path, scanner, run) =>
      readReports(path, {
        scanner,
        logger: run.logger,
        ...(run.signal ? { signal: run.signal } : {}),
      }),
    patchers: defaultPatchers,
    publish: (request, run) => publish(request, run, client),
    writeVex: async (summary, reports, path) => {
      await writeVex(summary, reports, path);
    },
  };
  try {
    return await runPatch(options, ctx, deps);
  } finally {
    await closeClient(client, ctx.signal);
  }
}

/** How long a cancelled run waits for the registry connections to close. */
const abortedCloseMs = 250;

/**
 * Closes the client's connections. After an abort, a request that ignores the signal must not
 * hold the run up: the wait is bounded and the connections are left to close on their own.
 */
async function closeClient(client: RegistryClient, signal: AbortSignal | undefined): Promise<void> {
  const closing = client.close();
  if (signal?.aborted !== true) return closing;
  closing.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, abortedCloseMs);
  });
  await Promise.race([closing.catch(() => {}), bound]);
  clearTimeout(timer);
}
