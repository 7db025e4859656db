import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { runReportCommand } from '../../src/cli/commands/report.js';
import { isCopaError } from '../../src/errors.js';
import { readReport } from '../../src/report/index.js';
import { repoRoot } from './golden.js';

/** Scanner reports collected from public projects; not part of this repository. */
const sharedDir = resolve(
  repoRoot,
  process.env.COPA_SHARED_REPORTS ?? '../shared/fixtures/reports',
);

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return jsonFiles(path);
    return e.isFile() && e.name.endsWith('.json') ? [path] : [];
  });
}

/** The scanner each folder's reports were written by. */
function scannerFor(file: string): string {
  const folder = basename(dirname(file));
  return folder === 'grype' ? 'grype' : folder === 'copa' ? 'native' : 'trivy';
}

function collector(): { write(chunk: string): boolean; text: string } {
  return {
    text: '',
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

describe('shared scanner reports', () => {
  if (!existsSync(sharedDir)) {
    it('are read without crashing', (t) => {
      t.skip(`no shared reports at "${sharedDir}" (set COPA_SHARED_REPORTS to their folder)`);
    });
    return;
  }

  for (const file of jsonFiles(sharedDir).sort()) {
    const name = file.slice(sharedDir.length + 1);
    it(`"${name}" gives a manifest or a clear refusal`, async () => {
      const scanner = scannerFor(file);
      try {
        const manifest = await readReport(file, { scanner });
        assert.ok(manifest.os.family);
      } catch (err) {
        assert.ok(isCopaError(err), `not a CopaError: ${String(err)}`);
        assert.ok(err.message.includes(file), `error does not name the file: ${err.message}`);
        assert.notEqual(err.code, 'INTERNAL');
      }

      for (const format of ['json', 'table'] as const) {
        const stdout = collector();
        const stderr = collector();
        const code = await runReportCommand(file, { scanner, format }, { stdout, stderr, env: {} });
        assert.ok(code === 0 || code === 1, `exit code ${code}`);
        assert.doesNotMatch(stderr.text, /internal error/);
        if (code === 1) assert.match(stderr.text, /^error: /);
        else if (format === 'json') assert.equal(JSON.parse(stdout.text).apiVersion, 'v1alpha2');
      }
    });
  }
});
