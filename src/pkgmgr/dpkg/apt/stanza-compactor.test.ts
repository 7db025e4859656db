import assert from 'node:assert/strict';
import { test } from 'node:test';

import { checkStanza } from './package-record.js';
import { parseStanzas } from './packages-index.js';
import { StanzaCompactor } from './stanza-compactor.js';

const sha = (c: string) => c.repeat(64);

/** An index with the awkward parts real ones have, and some they should not have. */
const INDEX = [
  'Package: hello',
  'Version: 2.10-3',
  'Architecture: amd64',
  'Depends: libc6 (>= 2.34),',
  '  libfoo1 ',
  'Description: example',
  ' long text: with a colon',
  ' .',
  'Filename: pool/main/h/hello/hello_2.10-3_amd64.deb',
  'Size: 1234',
  `SHA256: ${sha('a')}`,
  '',
  'Package: crlf',
  'Version: 1\r',
  'Architecture: all\r',
  'PROVIDES: virt-a, virt-b\r',
  'Filename: pool/c.deb\r',
  'Size: 1\r',
  `SHA256: ${sha('B')}\r`,
  '\r',
  '',
  ' orphan continuation line',
  'Package: repeated',
  'Version: 1',
  'Version: 2',
  'Architecture: arm64',
  'Provides:',
  ' virt-c',
  'no colon on this line',
  'Filename: pool/r.deb',
  'Size: 0',
  `SHA256: ${sha('c')}`,
  '',
  'Package: no-hash',
  'Version: 1',
  'Architecture: amd64',
  'Filename: pool/n.deb',
  'Size: 1',
  '',
  'Package: bad-size',
  'Version: 1',
  'Architecture: amd64',
  'Filename: pool/b.deb',
  'Size: 12x',
  `SHA256: ${sha('d')}`,
  '',
  'Description: only unkept fields',
  '',
  'Package: last',
  'Version: 1',
  'Architecture: amd64',
  'Filename: pool/l.deb',
  'Size: 7',
  `SHA256: ${sha('e')}`,
].join('\n');

async function compact(chunks: Buffer[]): Promise<{ text: string; skipped: number }> {
  const out: Buffer[] = [];
  const compactor = new StanzaCompactor(async (block) => {
    out.push(Buffer.from(block));
  });
  for (const c of chunks) await compactor.write(c);
  await compactor.end();
  return { text: Buffer.concat(out).toString('utf8'), skipped: compactor.skipped };
}

async function stanzas(text: string): Promise<Record<string, string>[]> {
  async function* input() {
    yield Buffer.from(text);
  }
  const out: Record<string, string>[] = [];
  for await (const s of parseStanzas(input())) out.push(s);
  return out;
}

test('StanzaCompactor keeps what parseStanzas and checkStanza keep, package and provides first', async () => {
  const { text, skipped } = await compact([Buffer.from(INDEX)]);
  const expected = (await stanzas(INDEX)).filter((s) => checkStanza(s) === undefined);
  assert.deepEqual(await stanzas(text), expected);
  assert.deepEqual(
    expected.map((s) => s['package']),
    ['hello', 'crlf', 'repeated', 'last'],
  );
  assert.equal(skipped, 2);
  assert.match(text, /^package: crlf\nprovides: virt-a, virt-b\nversion: 1\n/m);
  assert.match(text, /^package: repeated\nprovides: \n virt-c\nversion: 2\n/m);
  assert.match(text, /^depends: libc6 \(>= 2\.34\),\n libfoo1\n/m);
  assert.doesNotMatch(text, /description|orphan|no colon/);
});

test('StanzaCompactor gives the same text whatever the chunk boundaries', async () => {
  const whole = await compact([Buffer.from(INDEX)]);
  const bytes = Buffer.from(INDEX);
  for (let size = 1; size < 40; size += 3) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    assert.deepEqual(await compact(chunks), whole, `chunks of ${size} bytes`);
  }
});
