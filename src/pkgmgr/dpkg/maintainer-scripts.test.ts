import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import type { ControlMember } from './deb-archive.js';
import { isTrivialScript, scriptsNotRun } from './maintainer-scripts.js';

const member = (name: string, text: string): [string, ControlMember] => [
  name,
  { name, bytes: Buffer.from(text), mode: 0o755, mtime: 0 },
];

describe('maintainer scripts', () => {
  it('isTrivialScript() accepts shell structure only', () => {
    assert.equal(
      isTrivialScript('#!/bin/sh\nset -e\n\ncase "$1" in\n  configure)\n  ;;\nesac\nexit 0\n'),
      true,
    );
    assert.equal(isTrivialScript('#!/bin/sh\nset -e\nupdate-ca-certificates --fresh\n'), false);
  });

  it('scriptsNotRun() names non-trivial scripts and triggers beyond ldconfig', () => {
    const control = new Map([
      member('postinst', '#!/bin/sh\nset -e\nsetcap cap_net_raw+ep /usr/bin/ping\n'),
      member('preinst', '#!/bin/sh\nset -e\nexit 0\n'),
      member('triggers', 'activate-noawait ldconfig\n'),
    ]);
    assert.deepEqual(scriptsNotRun(control), ['postinst']);
    const withInterest = new Map([member('triggers', 'interest-noawait /usr/share/fonts\n')]);
    assert.deepEqual(scriptsNotRun(withInterest), ['triggers']);
  });
});
