/**
 * Builds (or reuses from the cache) the three-platform Debian bookworm demo image, optionally
 * pushes it to a registry and writes Trivy reports of its pending bookworm-security updates.
 *
 *   node --import tsx scripts/build-demo-image.ts [--distroless] [--push HOST:PORT/REPO:TAG]
 *     [--reports DIR] [--report-platforms linux/amd64,linux/arm64] [--platforms LIST]
 *
 * Prints the layout (directory, tag, index digest, manifests) as JSON on stdout; progress goes
 * to stderr. The cache is `${COPA_TEST_CACHE:-/var/cache/copa-test}`.
 */
import { parseArgs } from 'node:util';

import {
  buildDebianImageLayout,
  buildDistrolessImageLayout,
  debianPlatforms,
  pushLayoutToRegistry,
  writeTrivyReports,
  type DebianPlatform,
} from '../test/support/debian-images.js';

function parsePlatforms(value: string | undefined): DebianPlatform[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').filter(Boolean);
  for (const p of list) {
    if (!(debianPlatforms as readonly string[]).includes(p)) {
      throw new Error(`parsing platform "${p}": expected one of ${debianPlatforms.join(', ')}`);
    }
  }
  return list as DebianPlatform[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      distroless: { type: 'boolean', default: false },
      push: { type: 'string' },
      reports: { type: 'string' },
      'report-platforms': { type: 'string' },
      platforms: { type: 'string' },
    },
  });
  const log = (line: string): void => console.error(line);
  const platforms = parsePlatforms(values.platforms);
  const build = values.distroless ? buildDistrolessImageLayout : buildDebianImageLayout;
  const layout = await build({ platforms, log });
  if (values.push !== undefined) {
    log(`pushing "${layout.reference}" to "${values.push}"`);
    await pushLayoutToRegistry(layout, values.push);
  }
  if (values.reports !== undefined) {
    const files = await writeTrivyReports({
      image: layout,
      outDir: values.reports,
      platforms: parsePlatforms(values['report-platforms']),
    });
    for (const f of files) {
      const names = f.updates.map((u) => u.name).join(', ');
      log(`wrote "${f.path}": ${f.updates.length} pending security updates (${names})`);
    }
  }
  console.log(JSON.stringify(layout, null, 2));
}

await main();
