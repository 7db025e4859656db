import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { readSpooled, spoolData, spooledFileContent, type DataMember } from './spool-data.js';

const work = mkdtempSync(join(tmpdir(), 'copa-spool-'));
after(() => rmSync(work, { recursive: true, force: true }));

const md5 = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('hex');

/** A large body of random bytes, so that xz cannot make it small and it spans many blocks. */
const large = randomBytes(3 * 1024 * 1024 + 123);

/** Files of the test package, by package path. */
const files = new Map<string, Buffer>([
  ['/usr/share/sample/empty', Buffer.alloc(0)],
  ['/usr/share/sample/large.bin', large],
  ['/usr/share/sample/small', Buffer.from('small\n')],
  ...Array.from({ length: 40 }, (_, i): [string, Buffer] => [
    `/usr/share/sample/many/f${String(i).padStart(2, '0')}`,
    Buffer.from(`file ${i}\n`.repeat(i)),
  ]),
]);

function buildDeb(): string {
  const root = join(work, 'root');
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  writeFileSync(
    join(root, 'DEBIAN/control'),
    'Package: spool\nVersion: 1\nArchitecture: all\nMaintainer: T <t@example.org>\nDescription: x\n',
  );
  for (const [path, bytes] of files) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), bytes);
  }
  linkSync(join(root, 'usr/share/sample/small'), join(root, 'usr/share/sample/small-link'));
  const out = join(work, 'spool.deb');
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '-b', root, out], { stdio: 'ignore' });
  return out;
}

const deb = buildDeb();

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('spoolData()', () => {
  let members: DataMember[] = [];

  it('writes every body into one spool file, at increasing offsets without gaps', async () => {
    members = await spoolData(deb, join(work, 'spool-1'));
    const withBodies = members.filter((m) => m.type === 'file');
    assert.equal(withBodies.length, files.size);
    assert.ok(withBodies.every((m) => m.content!.path === join(work, 'spool-1', 'data')));
    let end = 0;
    for (const m of withBodies) {
      assert.equal(m.content!.offset, end, m.path);
      end += m.content!.sizeBytes;
    }
    assert.equal(readFileSync(join(work, 'spool-1', 'data')).length, end);
  });

  it('records the size and MD5 of each body, also of an empty one and one over a block', async () => {
    const byPath = new Map(members.map((m) => [m.path, m]));
    for (const [path, bytes] of files) {
      const content = byPath.get(path)!.content!;
      assert.equal(content.sizeBytes, bytes.length, path);
      assert.equal(content.md5, md5(bytes), path);
      assert.deepEqual(await readSpooled(content), bytes, path);
    }
    assert.equal(byPath.get('/usr/share/sample/empty')!.content!.md5, md5(Buffer.alloc(0)));
  });

  it('gives a hard link the content of its target', () => {
    const link = members.find((m) => m.path === '/usr/share/sample/small-link')!;
    const target = members.find((m) => m.path === '/usr/share/sample/small')!;
    assert.equal(link.type, 'hardlink');
    assert.equal(link.target, '/usr/share/sample/small');
    assert.deepEqual(link.content, target.content);
  });

  it('serves each body as a stream of its byte range', async () => {
    const byPath = new Map(members.map((m) => [m.path, m]));
    for (const path of ['/usr/share/sample/empty', '/usr/share/sample/large.bin']) {
      const content = spooledFileContent(byPath.get(path)!.content!);
      assert.equal(content.kind, 'stream');
      if (content.kind !== 'stream') return;
      assert.equal(content.size, files.get(path)!.length);
      assert.deepEqual(await collect(content.open()), files.get(path));
    }
  });

  it('rejects with the reason of an aborted signal', async () => {
    const reason = new Error('stop');
    await assert.rejects(
      spoolData(deb, join(work, 'spool-2'), { signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
    const controller = new AbortController();
    const spooling = spoolData(deb, join(work, 'spool-3'), { signal: controller.signal });
    setImmediate(() => controller.abort(reason));
    await assert.rejects(spooling, (e) => e === reason);
  });
});
