import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { fieldValue } from './control.js';
import {
  buildStatusStanza,
  formatStatus,
  infoKey,
  parseConffiles,
  parseStatus,
} from './status-database.js';

const hostStatus = readFileSync('/var/lib/dpkg/status', 'utf8');

describe('status database', () => {
  it('formatStatus() writes the host status file back byte-identical', () => {
    const entries = parseStatus(hostStatus);
    assert.ok(entries.length > 50);
    const text = formatStatus(entries.map((e) => ({ ...e, text: e.stanza.raw })));
    assert.equal(text, hostStatus);
  });

  it('buildStatusStanza() rebuilds every host stanza from its own fields', () => {
    for (const entry of parseStatus(hostStatus)) {
      if (entry.state !== 'installed') continue;
      const rebuilt = buildStatusStanza({
        control: entry.stanza.fields,
        status: fieldValue(entry.stanza, 'Status') ?? '',
        conffiles: parseConffiles(fieldValue(entry.stanza, 'Conffiles')),
      });
      assert.equal(rebuilt, entry.stanza.raw, entry.name);
    }
  });

  it('buildStatusStanza() orders control fields as dpkg and drops index fields', () => {
    const control = [
      { name: 'Package', value: 'pa' },
      { name: 'Version', value: '2' },
      { name: 'Architecture', value: 'amd64' },
      { name: 'Maintainer', value: 'M <m@example.org>' },
      { name: 'Homepage', value: 'https://example.org' },
      { name: 'Depends', value: 'libc6 (>=2.36),  a|b (< 3)' },
      { name: 'Essential', value: 'no' },
      { name: 'Filename', value: 'pool/p/pa.deb' },
      { name: 'Description', value: 'short\n long line' },
    ];
    const conffiles = [{ path: '/etc/pa.conf', md5: 'ab' }];
    const text = buildStatusStanza({ control, status: 'install ok installed', conffiles });
    assert.equal(
      text,
      [
        'Package: pa',
        'Status: install ok installed',
        'Maintainer: M <m@example.org>',
        'Architecture: amd64',
        'Version: 2',
        'Depends: libc6 (>= 2.36), a | b (<= 3)',
        'Conffiles:',
        ' /etc/pa.conf ab',
        'Description: short',
        ' long line',
        'Homepage: https://example.org',
        '',
      ].join('\n'),
    );
  });

  it('formatStatus() puts Multi-Arch: same instances after the unqualified one by arch', () => {
    const s = (name: string, arch: string, multiArch?: string) => ({
      name,
      arch,
      multiArch,
      text: `Package: ${name}:${arch}\n`,
    });
    const text = formatStatus([s('b', 'i386', 'same'), s('b', 'amd64', 'same'), s('a', 'all')]);
    assert.equal(text, 'Package: a:all\n\nPackage: b:amd64\n\nPackage: b:i386\n\n');
  });

  it('infoKey() qualifies only Multi-Arch: same packages', () => {
    assert.equal(infoKey({ name: 'libc6', arch: 'amd64', multiArch: 'same' }), 'libc6:amd64');
    assert.equal(infoKey({ name: 'dpkg', arch: 'amd64', multiArch: 'foreign' }), 'dpkg');
  });
});
