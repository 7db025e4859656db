import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { decideConffile, parseConffilesMember, type ConffileState } from './conffiles.js';

const rows: [string, ConffileState, string][] = [
  ['same as the new version', { old: 'a', current: 'b', packaged: 'b' }, 'untouched'],
  ['unedited, changed upstream', { old: 'a', current: 'a', packaged: 'b' }, 'install'],
  ['edited, unchanged upstream', { old: 'a', current: 'x', packaged: 'a' }, 'keep'],
  ['edited and changed upstream', { old: 'a', current: 'x', packaged: 'b' }, 'keep-dist'],
  ['deleted by the admin', { old: 'a', current: undefined, packaged: 'b' }, 'keep'],
  ['new conffile, absent', { old: undefined, current: undefined, packaged: 'b' }, 'install'],
  ['new conffile, other file', { old: undefined, current: 'x', packaged: 'b' }, 'keep-dist'],
  [
    'no old record (distroless)',
    { old: undefined, current: 'x', packaged: 'b', assumeUnedited: true },
    'install',
  ],
];

describe('conffiles', () => {
  for (const [name, state, want] of rows) {
    it(`decideConffile() gives "${want}" when ${name}`, () => {
      assert.equal(decideConffile(state), want);
    });
  }

  it('parseConffilesMember() reads paths and the remove-on-upgrade flag', () => {
    assert.deepEqual(parseConffilesMember('/etc/a\nremove-on-upgrade /etc/b\n\n'), [
      { path: '/etc/a', removeOnUpgrade: false },
      { path: '/etc/b', removeOnUpgrade: true },
    ]);
  });
});
