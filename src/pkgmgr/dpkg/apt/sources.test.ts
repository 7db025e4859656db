import { test } from 'node:test';
import assert from 'node:assert/strict';

import { isCopaError } from '../../../errors.js';
import { parseDeb822Sources, parseSignedBy, parseSourcesList } from './sources.js';

const FPR = '4D64FEC119C2029067D6E791F8D2585B8783D481';

test('parseSourcesList reads one-line entries with options, comments and deb-src', () => {
  const text = [
    '# a comment',
    'deb http://mirror.invalid/debian bookworm main contrib # trailing comment',
    'deb-src http://mirror.invalid/debian bookworm main',
    '',
    'deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/x.gpg] https://repo.invalid/apt/ stable main',
    'deb [ check-valid-until=no ] http://snap.invalid/archive/debian/20250520T000000Z bookworm main',
    'deb http://flat.invalid/repo ./',
  ].join('\n');
  assert.deepEqual(parseSourcesList(text, 'etc/apt/sources.list'), [
    {
      uri: 'http://mirror.invalid/debian',
      suite: 'bookworm',
      components: ['main', 'contrib'],
      from: 'etc/apt/sources.list:2',
    },
    {
      uri: 'https://repo.invalid/apt',
      suite: 'stable',
      components: ['main'],
      architectures: ['amd64', 'arm64'],
      signedBy: [{ kind: 'path', path: '/usr/share/keyrings/x.gpg' }],
      from: 'etc/apt/sources.list:5',
    },
    {
      uri: 'http://snap.invalid/archive/debian/20250520T000000Z',
      suite: 'bookworm',
      components: ['main'],
      checkValidUntil: false,
      from: 'etc/apt/sources.list:6',
    },
    {
      uri: 'http://flat.invalid/repo',
      suite: './',
      components: [],
      from: 'etc/apt/sources.list:7',
    },
  ]);
});

test('parseSourcesList throws REPOSITORY_CONFIG_INVALID when an entry is malformed', () => {
  const bad = [
    'deb http://mirror.invalid/debian',
    'rpm http://mirror.invalid/x a b',
    'deb [arch] http://mirror.invalid/debian bookworm main',
    'deb http://mirror.invalid/debian bookworm',
    'deb http://mirror.invalid/debian ./ main',
  ];
  for (const line of bad) {
    assert.throws(
      () => parseSourcesList(line, 'x.list'),
      (e) => isCopaError(e, 'REPOSITORY_CONFIG_INVALID'),
      line,
    );
  }
});

test('parseDeb822Sources expands URIs and suites and skips disabled or deb-src paragraphs', () => {
  const text = [
    'Types: deb deb-src',
    'URIs: http://a.invalid/debian http://b.invalid/debian',
    'Suites: bookworm bookworm-updates',
    'Components: main',
    'Architectures: arm64',
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
    '',
    '# comment paragraph',
    'Types: deb-src',
    'URIs: http://a.invalid/debian',
    'Suites: bookworm',
    'Components: main',
    '',
    'Types: deb',
    'URIs: http://c.invalid/debian',
    'Suites: bookworm',
    'Components: main',
    'Enabled: no',
    '',
    'Types: deb',
    'URIs: http://d.invalid/debian-security/',
    'Suites: bookworm-security',
    'Components: main',
    `Signed-By: ${FPR}`,
    'Check-Valid-Until: false',
  ].join('\n');
  const entries = parseDeb822Sources(text, 'debian.sources');
  assert.deepEqual(
    entries.map((e) => `${e.uri} ${e.suite} ${e.from}`),
    [
      'http://a.invalid/debian bookworm debian.sources:1',
      'http://a.invalid/debian bookworm-updates debian.sources:1',
      'http://b.invalid/debian bookworm debian.sources:1',
      'http://b.invalid/debian bookworm-updates debian.sources:1',
      'http://d.invalid/debian-security bookworm-security debian.sources:20',
    ],
  );
  assert.deepEqual(entries[0]?.architectures, ['arm64']);
  assert.deepEqual(entries[4]?.signedBy, [{ kind: 'fingerprint', fingerprint: FPR }]);
  assert.equal(entries[4]?.checkValidUntil, false);
});

test('parseDeb822Sources reads an inline armored Signed-By key with dot lines', () => {
  const text = [
    'Types: deb',
    'URIs: http://a.invalid/debian',
    'Suites: stable',
    'Components: main',
    'Signed-By:',
    ' -----BEGIN PGP PUBLIC KEY BLOCK-----',
    ' .',
    ' mDMEZabc',
    ' =abcd',
    ' -----END PGP PUBLIC KEY BLOCK-----',
  ].join('\n');
  const [entry] = parseDeb822Sources(text, 'x.sources');
  assert.deepEqual(entry?.signedBy, [
    {
      kind: 'inline',
      armored:
        '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZabc\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n',
    },
  ]);
});

test('parseDeb822Sources throws REPOSITORY_CONFIG_INVALID when required fields are missing', () => {
  for (const text of [
    'URIs: http://a.invalid/\nSuites: x\nComponents: main',
    'Types: deb\nSuites: x',
  ]) {
    assert.throws(
      () => parseDeb822Sources(text, 'x.sources'),
      (e) => isCopaError(e, 'REPOSITORY_CONFIG_INVALID'),
    );
  }
});

test('parseSignedBy splits paths and fingerprints', () => {
  assert.deepEqual(parseSignedBy(`/a.gpg, ${FPR.toLowerCase()}! /b.asc`), [
    { kind: 'path', path: '/a.gpg' },
    { kind: 'fingerprint', fingerprint: FPR },
    { kind: 'path', path: '/b.asc' },
  ]);
});
