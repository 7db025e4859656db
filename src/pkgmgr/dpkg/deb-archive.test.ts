import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { isCopaError } from '../../errors.js';
import { readArMembers, readControlMembers } from './deb-archive.js';
import { readSpooled, spoolData } from './spool-data.js';

const work = mkdtempSync(join(tmpdir(), 'copa-deb-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Builds a small package with dpkg-deb using the given compression. */
function buildDeb(compression: string): string {
  const root = mkdtempSync(join(work, `root-${compression}-`));
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  const control = 'Package: sample\nVersion: 1.0-1\nArchitecture: all\n';
  writeFileSync(
    join(root, 'DEBIAN/control'),
    `${control}Maintainer: T <t@example.org>\nDescription: x\n`,
  );
  writeFileSync(join(root, 'DEBIAN/conffiles'), '/etc/sample.conf\n');
  writeFileSync(join(root, 'DEBIAN/postinst'), '#!/bin/sh\nset -e\necho configured\n');
  chmodSync(join(root, 'DEBIAN/postinst'), 0o755);
  writeFileSync(join(root, 'etc/sample.conf'), 'key=value\n');
  writeFileSync(join(root, 'usr/bin/sample'), '#!/bin/sh\necho sample\n');
  chmodSync(join(root, 'usr/bin/sample'), 0o4755);
  linkSync(join(root, 'usr/bin/sample'), join(root, 'usr/bin/sample-link'));
  symlinkSync('sample', join(root, 'usr/bin/sample-sym'));
  const out = join(work, `sample-${compression}.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '-b', root, out], {
    stdio: 'ignore',
  });
  return out;
}

describe('deb archive', () => {
  for (const compression of ['xz', 'zstd', 'gzip', 'none']) {
    it(`readControlMembers() and spoolData() read a ${compression} package`, async () => {
      const deb = buildDeb(compression);
      const names = (await readArMembers(deb)).map((m) => m.name);
      assert.equal(names[0], 'debian-binary');

      const control = await readControlMembers(deb);
      assert.match(Buffer.from(control.get('control')!.bytes).toString(), /^Package: sample\n/);
      assert.equal(control.get('postinst')?.mode, 0o755);
      assert.equal(Buffer.from(control.get('conffiles')!.bytes).toString(), '/etc/sample.conf\n');

      const members = await spoolData(deb, join(work, `spool-${compression}`));
      const byPath = new Map(members.map((m) => [m.path, m]));
      assert.equal(members[0]?.path, '/.');
      assert.equal(byPath.get('/usr/bin')?.type, 'directory');
      const bin = byPath.get('/usr/bin/sample')!;
      assert.equal(bin.mode, 0o4755);
      assert.equal(bin.uname, 'root');
      const content = await readSpooled(bin.content!);
      assert.equal(content.toString(), '#!/bin/sh\necho sample\n');
      assert.equal(bin.content!.md5, createHash('md5').update(content).digest('hex'));
      const link = byPath.get('/usr/bin/sample-link')!;
      assert.equal(link.type, 'hardlink');
      assert.equal(link.target, '/usr/bin/sample');
      assert.equal(link.content?.md5, bin.content!.md5);
      assert.equal(byPath.get('/usr/bin/sample-sym')?.target, 'sample');
    });
  }

  it('readArMembers() throws PACKAGE_INVALID for a file that is not a package', async () => {
    const bad = join(work, 'bad.deb');
    writeFileSync(bad, 'not an archive at all, really');
    await assert.rejects(readArMembers(bad), (e) => isCopaError(e, 'PACKAGE_INVALID'));
  });

  it('readControlMembers() throws PACKAGE_INVALID for a truncated package', async () => {
    const deb = buildDeb('xz');
    const cut = join(work, 'cut.deb');
    writeFileSync(cut, readFileSync(deb).subarray(0, 300));
    await assert.rejects(readControlMembers(cut), (e) => isCopaError(e, 'PACKAGE_INVALID'));
  });
});
