import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parseStanzas } from './packages-index.js';

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
