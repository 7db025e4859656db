import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

import { silentLogger } from '../../../log.js';
import { parseStanzas, readPackagesIndex } from './packages-index.js';

async function collect(chunks: string[]): Promise<Record<string, string>[]> {
  async function* input() {
    for (const c of chunks) yield Buffer.from(c);
  }
  const out: Record<string, string>[] = [];
  for await (const s of parseStanzas(input())) out.push(s);
  return out;
}

const INDEX = [
  'Package: hello',
  'Version: 2.10-3',
  'Architecture: amd64',
  'Depends: libc6 (>= 2.34),',
  ' libfoo1',
  'Description: example',
  ' long text: with a colon',
  ' .',
  'SHA256: ' + 'a'.repeat(64),
  '',
  'Package: zz',
  'version: 1',
  'Description: ünïcödé',
  '',
  '',
  'Package: last',
  'Version: 3',
].join('\n');

test('parseStanzas keeps wanted fields, joins continuation lines and drops the rest', async () => {
  const want = [
    {
      package: 'hello',
      version: '2.10-3',
      architecture: 'amd64',
      depends: 'libc6 (>= 2.34),\nlibfoo1',
      sha256: 'a'.repeat(64),
    },
    { package: 'zz', version: '1' },
    { package: 'last', version: '3' },
  ];
  assert.deepEqual(await collect([INDEX]), want);
});

test('parseStanzas gives the same stanzas whatever the chunk boundaries', async () => {
  const whole = await collect([INDEX]);
  for (let size = 1; size < 40; size += 3) {
    const chunks: string[] = [];
    for (let i = 0; i < INDEX.length; i += size) chunks.push(INDEX.slice(i, i + size));
    assert.deepEqual(await collect(chunks), whole, `chunks of ${size}`);
  }
});

const DOWNLOADABLE = [
  'Package: libfoo1',
  'Version: 1.2-3',
  'Architecture: amd64',
  'Multi-Arch: same',
  'Depends: libc6 (>= 2.34),',
  '  libbar2 | libbaz2',
  'Provides: foo-abi-1',
  'Filename: pool/main/f/foo/libfoo1_1.2-3_amd64.deb',
  'Size: 1234',
  'SHA256: ' + 'B'.repeat(64),
  '',
  'Package: nofile',
  'Version: 1',
  'Architecture: all',
  '',
  'Package: foo-doc',
  'Version: 1.2-3',
  'Architecture: all',
  'Filename: pool/main/f/foo/foo-doc_1.2-3_all.deb',
  'Size: 99',
  'SHA256: ' + 'c'.repeat(64),
  '',
].join('\n');

test('readPackagesIndex gives the same records from the index and from its parsed cache', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'packages-index-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'Packages');
  await fs.writeFile(file, DOWNLOADABLE);
  const origin = {
    uri: 'http://127.0.0.1/debian',
    suite: 'stable',
    component: 'main',
    priority: 500,
  };
  const read = () =>
    readPackagesIndex({
      file,
      sha256: 'a'.repeat(64),
      compression: 'none',
      parsedDir: path.join(dir, 'parsed'),
      origin,
      logger: silentLogger,
    });
  const summary = async () =>
    (await read()).map((r) => ({
      name: r.name,
      version: r.version,
      architecture: r.architecture,
      multiArch: r.multiArch,
      depends: r.depends,
      provides: r.provides,
      sizeBytes: r.sizeBytes,
      sha256: r.sha256,
      filename: r.filename,
    }));
  const fromIndex = await summary();
  await fs.rm(file);
  const fromCache = await summary();
  assert.deepEqual(fromCache, fromIndex);
  assert.deepEqual(
    fromIndex.map((r) => r.name),
    ['libfoo1', 'foo-doc'],
  );
  assert.equal(fromIndex[0]?.sha256, 'b'.repeat(64));
  assert.equal(fromIndex[0]?.depends.length, 2);
  assert.equal(fromIndex[0]?.provides[0]?.[0]?.name, 'foo-abi-1');
});

test('readPackagesIndex reads records larger than one scan of the parsed file', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'packages-index-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'Packages');
  // About 7 MB of stanzas: the parsed file is scanned in parts of a few megabytes.
  const stanzas: string[] = [];
  for (let i = 0; i < 30_000; i += 1) {
    stanzas.push(
      [
        `Package: pkg-${i}`,
        `Version: 1.${i}-1`,
        'Architecture: amd64',
        ...(i % 7 === 0 ? [`Provides: virt-${i % 3},`, ` other-${i} (= 1.${i})`] : []),
        `Depends: libc6 (>= 2.36), pkg-${i + 1}`,
        `Description: package number ${i}`,
        ` ${'padding '.repeat(20)}`,
        `Filename: pool/main/p/pkg-${i}/pkg-${i}_1.${i}-1_amd64.deb`,
        `Size: ${1000 + i}`,
        `SHA256: ${i.toString(16).padStart(64, '0')}`,
        '',
      ].join('\n'),
    );
  }
  await fs.writeFile(file, stanzas.join('\n'));
  const read = () =>
    readPackagesIndex({
      file,
      sha256: 'e'.repeat(64),
      compression: 'none',
      parsedDir: path.join(dir, 'parsed'),
      origin: { uri: 'http://127.0.0.1/debian', suite: 'stable', component: 'main', priority: 500 },
      logger: silentLogger,
    });
  await read();
  await fs.rm(file);
  const records = await read();
  assert.equal(records.length, 30_000);
  for (const i of [0, 1, 17_999, 18_000, 29_999]) {
    const r = records[i]!;
    assert.equal(r.name, `pkg-${i}`);
    assert.equal(r.version, `1.${i}-1`);
    assert.equal(r.sizeBytes, 1000 + i);
    assert.equal(r.depends[1]?.[0]?.name, `pkg-${i + 1}`);
  }
  const provider = records[21_000]!;
  assert.deepEqual(
    provider.provides.map((g) => g[0]?.name),
    ['virt-0', 'other-21000'],
  );
  assert.equal(provider.provides[1]?.[0]?.version?.version, '1.21000');
});
