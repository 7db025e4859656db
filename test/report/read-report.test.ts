import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { isCopaError, type ErrorCode } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import {
  readReport,
  readReports,
  toUpdateManifestDocument,
  type UpdateManifest,
} from '../../src/report/index.js';
import { assertGolden, repoRoot } from './golden.js';

const fixtures = join(repoRoot, 'testdata/reports');
const fixture = (name: string): string => join(fixtures, name);

/** The manifest with its source relative to the repository, as the golden files hold it. */
function portable(m: UpdateManifest): UpdateManifest {
  return { ...m, source: relative(repoRoot, m.source) };
}

function platformText(m: UpdateManifest): string | undefined {
  const p = m.platform;
  return p && [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function collectingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: (m) => lines.push(m),
    info: (m) => lines.push(m),
    warn: (m) => lines.push(m),
  };
}

describe('readReport() on the fixtures', () => {
  const rows: readonly {
    file: string;
    scanner: string;
    os: string;
    platform: string | undefined;
    updates: number;
    unfixable: number;
    languagePackages: number;
  }[] = [
    {
      file: 'trivy/debian-12-amd64.json',
      scanner: 'trivy',
      os: 'debian 12.5',
      platform: 'linux/amd64',
      updates: 5,
      unfixable: 2,
      languagePackages: 2,
    },
    {
      file: 'trivy/alpine-3.19-arm64.json',
      scanner: 'trivy',
      os: 'alpine 3.19.1',
      platform: 'linux/arm64',
      updates: 3,
      unfixable: 0,
      languagePackages: 0,
    },
    {
      file: 'trivy/rocky-9-amd64.json',
      scanner: 'trivy',
      os: 'rocky 9.3',
      platform: 'linux/amd64',
      updates: 2,
      unfixable: 1,
      languagePackages: 0,
    },
    {
      file: 'trivy/legacy-debian-11.json',
      scanner: 'trivy',
      os: 'debian 11.6',
      platform: undefined,
      updates: 2,
      unfixable: 0,
      languagePackages: 1,
    },
    {
      file: 'grype/debian-12-arm64.json',
      scanner: 'grype',
      os: 'debian 12',
      platform: 'linux/arm64',
      updates: 4,
      unfixable: 3,
      languagePackages: 1,
    },
    {
      file: 'grype/rocky-9-arm64-old.json',
      scanner: 'grype',
      os: 'rocky 9.3',
      platform: 'linux/arm64',
      updates: 2,
      unfixable: 0,
      languagePackages: 0,
    },
    {
      file: 'native/v1alpha1-ubuntu-22.04.json',
      scanner: 'native',
      os: 'ubuntu 22.04',
      platform: 'linux/amd64',
      updates: 2,
      unfixable: 0,
      languagePackages: 0,
    },
    {
      file: 'native/v1alpha2-debian-12-arm-v7.json',
      scanner: 'native',
      os: 'debian 12.5',
      platform: 'linux/arm/v7',
      updates: 1,
      unfixable: 1,
      languagePackages: 1,
    },
  ];
  for (const row of rows) {
    it(`normalises "${row.file}" read as ${row.scanner}`, async () => {
      const m = await readReport(fixture(row.file), { scanner: row.scanner });
      assert.equal(`${m.os.family} ${m.os.version}`, row.os);
      assert.equal(platformText(m), row.platform);
      assert.equal(m.scanner, row.scanner);
      assert.equal(m.updates.length, row.updates);
      assert.equal(m.unfixable.length, row.unfixable);
      assert.equal(m.languagePackages.length, row.languagePackages);
      const golden = row.file.replace(/\//g, '-').replace(/\.json$/, '.manifest.json');
      await assertGolden(`reports/${golden}`, `${JSON.stringify(portable(m), null, 2)}\n`);
    });
  }
});

describe('readReport() grouping', () => {
  it('raises a package to the highest fixed version its vulnerabilities need', async () => {
    const m = await readReport(fixture('trivy/debian-12-amd64.json'));
    const openssl = m.updates.find((u) => u.name === 'openssl');
    assert.deepEqual(openssl, {
      name: 'openssl',
      installedVersion: '3.0.11-1~deb12u2',
      fixedVersion: '3.0.15-1~deb12u1',
      vulnerabilityIds: ['CVE-2024-2511', 'CVE-2024-4741', 'CVE-2024-5535'],
      arch: 'amd64',
    });
  });

  it('lists a vulnerability once when the report repeats it for a package', async () => {
    const m = await readReport(fixture('trivy/debian-12-amd64.json'));
    const libc = m.updates.find((u) => u.name === 'libc6');
    assert.deepEqual(libc?.vulnerabilityIds, ['CVE-2024-2961', 'CVE-2024-33599']);
  });

  it('chooses the smallest listed version above the installed one from a list', async () => {
    const m = await readReport(fixture('trivy/debian-12-amd64.json'));
    assert.equal(m.updates.find((u) => u.name === 'perl-base')?.fixedVersion, '5.36.0-7+deb12u2');
  });

  it('orders rpm versions with epochs, whether written "1:" or "0:"', async () => {
    const rocky = await readReport(fixture('trivy/rocky-9-amd64.json'));
    assert.equal(rocky.updates.find((u) => u.name === 'glibc')?.fixedVersion, '2.34-100.el9');
    assert.equal(
      rocky.updates.find((u) => u.name === 'openssl-libs')?.fixedVersion,
      '1:3.0.7-27.el9',
    );
    const old = await readReport(fixture('grype/rocky-9-arm64-old.json'), { scanner: 'grype' });
    assert.equal(old.updates.find((u) => u.name === 'libxml2')?.fixedVersion, '0:2.9.13-6.el9_4');
  });

  it('keeps entries without a fixed version as unfixable', async () => {
    const m = await readReport(fixture('trivy/debian-12-amd64.json'));
    assert.deepEqual(
      m.unfixable.map((f) => `${f.name} ${f.vulnerabilityId}`),
      ['tar CVE-2005-2541', 'zlib1g CVE-2023-45853'],
    );
  });

  it('treats Grype matches whose fix state is not "fixed" as unfixable', async () => {
    const m = await readReport(fixture('grype/debian-12-arm64.json'), { scanner: 'grype' });
    assert.ok(m.unfixable.some((f) => f.name === 'libgcrypt20'));
    assert.equal(m.updates.find((u) => u.name === 'openssl')?.arch, 'arm64');
  });
});

describe('readReport() refusals', () => {
  let pluginDir: string;
  before(async () => {
    pluginDir = await mkdtemp(join(tmpdir(), 'copa-plugins-'));
    const scripts: Record<string, string> = {
      'copa-cat': 'exec cat "$1"',
      'copa-broken': 'echo "scanner exploded" >&2\nexit 3',
      'copa-garbage': 'echo "this is not json"',
      'copa-future': 'echo \'{"apiVersion": "v9"}\'',
    };
    for (const [name, body] of Object.entries(scripts)) {
      await writeFile(join(pluginDir, name), `#!/bin/sh\n${body}\n`);
      await chmod(join(pluginDir, name), 0o755);
    }
  });
  after(async () => {
    await rm(pluginDir, { recursive: true, force: true });
  });
  const env = (): NodeJS.ProcessEnv => ({ PATH: `${pluginDir}:/usr/bin:/bin` });

  const rows: readonly { name: string; file: string; scanner: string; code: ErrorCode }[] = [
    {
      name: 'truncated JSON',
      file: 'bad/truncated.json',
      scanner: 'trivy',
      code: 'REPORT_INVALID',
    },
    { name: 'an empty file', file: 'bad/empty.json', scanner: 'trivy', code: 'REPORT_INVALID' },
    { name: 'a missing file', file: 'bad/missing.json', scanner: 'trivy', code: 'REPORT_INVALID' },
    {
      name: 'an unsupported OS',
      file: 'bad/unsupported-os.json',
      scanner: 'trivy',
      code: 'OS_UNSUPPORTED',
    },
    {
      name: 'OS findings without OS metadata',
      file: 'bad/no-os-metadata.json',
      scanner: 'trivy',
      code: 'REPORT_INVALID',
    },
    {
      name: 'a finding without a package name',
      file: 'bad/no-package-name.json',
      scanner: 'trivy',
      code: 'REPORT_INVALID',
    },
    {
      name: 'JSON that is no report',
      file: 'bad/not-a-report.json',
      scanner: 'trivy',
      code: 'REPORT_INVALID',
    },
    {
      name: 'an unknown apiVersion',
      file: 'bad/unknown-api-version.json',
      scanner: 'native',
      code: 'REPORT_FORMAT_UNSUPPORTED',
    },
    {
      name: 'a Trivy report read as Grype',
      file: 'trivy/debian-12-amd64.json',
      scanner: 'grype',
      code: 'REPORT_FORMAT_UNSUPPORTED',
    },
    {
      name: 'a Grype report read as Trivy',
      file: 'grype/debian-12-arm64.json',
      scanner: 'trivy',
      code: 'REPORT_FORMAT_UNSUPPORTED',
    },
    {
      name: 'a Trivy report read as an update manifest',
      file: 'trivy/debian-12-amd64.json',
      scanner: 'native',
      code: 'REPORT_FORMAT_UNSUPPORTED',
    },
    {
      name: 'a plugin that is not on PATH',
      file: 'trivy/debian-12-amd64.json',
      scanner: 'nosuchscanner',
      code: 'PLUGIN_FAILED',
    },
    {
      name: 'a plugin that exits with an error',
      file: 'trivy/debian-12-amd64.json',
      scanner: 'broken',
      code: 'PLUGIN_FAILED',
    },
    {
      name: 'a plugin that prints garbage',
      file: 'trivy/debian-12-amd64.json',
      scanner: 'garbage',
      code: 'PLUGIN_FAILED',
    },
    {
      name: 'a plugin that prints an unknown apiVersion',
      file: 'trivy/debian-12-amd64.json',
      scanner: 'future',
      code: 'PLUGIN_FAILED',
    },
    {
      name: 'a scanner name that is a path',
      file: 'trivy/debian-12-amd64.json',
      scanner: '../bin/sh',
      code: 'USAGE',
    },
  ];
  for (const row of rows) {
    it(`refuses ${row.name} with ${row.code}, naming the file in one line`, async () => {
      const path = fixture(row.file);
      await assert.rejects(readReport(path, { scanner: row.scanner, env: env() }), (err) => {
        assert.ok(isCopaError(err, row.code), `got ${String(err)}`);
        assert.ok(err.message.includes(path), err.message);
        assert.ok(!err.message.includes('\n'), err.message);
        return true;
      });
    });
  }

  it('names the plugin in its errors', async () => {
    await assert.rejects(
      readReport(fixture('trivy/debian-12-amd64.json'), { scanner: 'broken', env: env() }),
      /copa-broken.*exited with status 3: scanner exploded/,
    );
  });

  it('reads the update manifest a plugin prints', async () => {
    const native = fixture('native/v1alpha2-debian-12-arm-v7.json');
    const m = await readReport(native, { scanner: 'cat', env: env() });
    assert.equal(m.scanner, 'cat');
    assert.deepEqual(
      m.updates.map((u) => u.name),
      ['libc6'],
    );
  });
});

describe('readReports()', () => {
  it('reads every .json report of a directory, platforms from metadata or names', async () => {
    const logger = collectingLogger();
    const manifests = await readReports(fixture('multi'), { logger });
    assert.deepEqual(manifests.map(platformText), ['linux/amd64', 'linux/arm/v7', 'linux/arm64']);
    assert.ok(
      logger.lines.some((l) => l.includes('notes.txt')),
      'skipped files are logged',
    );
  });

  it('reads a single file as one manifest', async () => {
    const manifests = await readReports(fixture('trivy/legacy-debian-11.json'));
    assert.equal(manifests.length, 1);
    assert.equal(manifests[0]!.platform, undefined);
  });

  it('refuses two reports for one platform with REPORT_CONFLICT naming both files', async () => {
    await assert.rejects(readReports(fixture('conflict')), (err) => {
      assert.ok(isCopaError(err, 'REPORT_CONFLICT'));
      assert.match(err.message, /arm64\.json.*linux-arm64-v8\.json.*linux\/arm64$/);
      return true;
    });
  });

  it('refuses a report without a platform in a directory: REPORT_PLATFORM_UNKNOWN', async () => {
    await assert.rejects(readReports(fixture('unnamed')), (err) => {
      assert.ok(isCopaError(err, 'REPORT_PLATFORM_UNKNOWN'));
      assert.match(err.message, /scan\.json/);
      return true;
    });
  });

  it('refuses an empty directory and a missing path: REPORT_INVALID naming it', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'copa-reports-'));
    try {
      await writeFile(join(empty, 'README.md'), 'no reports here\n');
      for (const path of [empty, join(empty, 'missing')]) {
        await assert.rejects(readReports(path), (err) => {
          assert.ok(isCopaError(err, 'REPORT_INVALID'));
          assert.ok(err.message.includes(path));
          return true;
        });
      }
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('toUpdateManifestDocument()', () => {
  it('writes a v1alpha2 manifest that reads back as the same manifest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'copa-manifest-'));
    try {
      for (const file of ['trivy/debian-12-amd64.json', 'trivy/rocky-9-amd64.json']) {
        const original = await readReport(fixture(file));
        const path = join(dir, 'manifest.json');
        await writeFile(path, JSON.stringify(toUpdateManifestDocument(original)));
        const again = await readReport(path, { scanner: 'native' });
        assert.deepEqual(
          { ...again, source: original.source, scanner: original.scanner },
          original,
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
