import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { assertGolden, repoRoot } from '../../../test/report/golden.js';
import { runReportCommand } from './report.js';

const fixtures = join(repoRoot, 'testdata/reports');

function collector(): { write(chunk: string): boolean; text: string } {
  return {
    text: '',
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

async function run(
  path: string,
  options: { scanner?: string; format?: string; debug?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = collector();
  const stderr = collector();
  const code = await runReportCommand(
    path,
    {
      scanner: options.scanner ?? 'trivy',
      format: (options.format ?? 'table') as 'json' | 'table',
      debug: options.debug ?? false,
    },
    { stdout, stderr, env: {} },
  );
  const portable = (text: string): string => text.split(repoRoot).join('');
  return { code, stdout: portable(stdout.text), stderr: portable(stderr.text) };
}

describe('runReportCommand()', () => {
  it('prints updates, unfixable findings and a language-package line as a table', async () => {
    const result = await run(join(fixtures, 'trivy/debian-12-amd64.json'));
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /openssl +3\.0\.11-1~deb12u2 +3\.0\.15-1~deb12u1 +CVE-2024-2511/);
    assert.match(result.stdout, /language packages: 2 findings, not patched yet/);
    await assertGolden('reports/trivy-debian-12-amd64.table.txt', result.stdout);
  });

  it('prints one table per platform for a directory', async () => {
    const result = await run(join(fixtures, 'multi'));
    assert.equal(result.code, 0);
    assert.deepEqual(
      result.stdout.split('\n').filter((l) => l.startsWith('platform: ')),
      ['platform: linux/amd64', 'platform: linux/arm/v7', 'platform: linux/arm64'],
    );
    await assertGolden('reports/multi.table.txt', result.stdout);
  });

  it('prints a v1alpha2 update manifest with the platform as JSON', async () => {
    const result = await run(join(fixtures, 'trivy/alpine-3.19-arm64.json'), { format: 'json' });
    assert.equal(result.code, 0);
    const doc = JSON.parse(result.stdout);
    assert.equal(doc.apiVersion, 'v1alpha2');
    assert.deepEqual(doc.platform, { os: 'linux', architecture: 'arm64' });
    assert.deepEqual(doc.metadata.config, { arch: 'arm64' });
    await assertGolden('reports/trivy-alpine-3.19-arm64.v1alpha2.json', result.stdout);
  });

  it('prints an array of manifests as JSON for a directory', async () => {
    const result = await run(join(fixtures, 'multi'), { format: 'json' });
    assert.equal(result.code, 0);
    assert.equal(JSON.parse(result.stdout).length, 3);
  });

  it('reports a bad report on stderr and exits 1', async () => {
    const result = await run(join(fixtures, 'bad/truncated.json'));
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^error: reading report ".*truncated\.json": not valid JSON/);
    assert.match(result.stderr, /\nhint: /);
  });

  it('prints debug lines only with debug', async () => {
    const quiet = await run(join(fixtures, 'multi'));
    const loud = await run(join(fixtures, 'multi'), { debug: true });
    assert.doesNotMatch(quiet.stderr, /notes\.txt/);
    assert.match(loud.stderr, /debug: .*skipping "notes\.txt"/);
  });

  it('exits 2 for an unknown format', async () => {
    const result = await run(join(fixtures, 'multi'), { format: 'yaml' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--format/);
  });
});
