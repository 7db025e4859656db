import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  parseDiversions,
  parseIdFile,
  parsePathFilters,
  parseStatOverrides,
  resolveOwner,
} from './install-rules.js';

const ids = {
  users: parseIdFile('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n'),
  groups: parseIdFile('root:x:0:\nshadow:x:42:\nnogroup:x:65534:\n'),
};

describe('install rules', () => {
  it('parseDiversions() reads triples of lines', () => {
    const d = parseDiversions('/bin/sh\n/bin/sh.distrib\ndash\n/etc/x\n/etc/x.orig\n:\n');
    assert.deepEqual(d.get('/bin/sh'), { to: '/bin/sh.distrib', by: 'dash' });
    assert.deepEqual(d.get('/etc/x'), { to: '/etc/x.orig', by: ':' });
  });

  it('parseStatOverrides() resolves names and #ids', () => {
    const o = parseStatOverrides('nobody shadow 2755 /usr/bin/x\n#0 #42 0640 /etc/y\n', ids);
    assert.deepEqual(o.get('/usr/bin/x'), { uid: 65534, gid: 42, mode: 0o2755 });
    assert.deepEqual(o.get('/etc/y'), { uid: 0, gid: 42, mode: 0o640 });
  });

  it('resolveOwner() prefers the image names over the archive ids', () => {
    assert.deepEqual(resolveOwner({ uid: 0, gid: 5, gname: 'shadow' }, ids), { uid: 0, gid: 42 });
    assert.deepEqual(resolveOwner({ uid: 7, gid: 8, uname: 'ghost' }, ids), { uid: 7, gid: 8 });
  });

  it('parsePathFilters() applies the last matching rule, "*" crossing slashes', () => {
    const excluded = parsePathFilters([
      'path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\n',
      '# comment\npath-exclude=/usr/share/man/*\n',
    ]);
    assert.equal(excluded('/usr/share/doc/libc6/changelog.gz'), true);
    assert.equal(excluded('/usr/share/doc/libc6/copyright'), false);
    assert.equal(excluded('/usr/share/man/man1/ls.1.gz'), true);
    assert.equal(excluded('/usr/bin/ls'), false);
  });
});
