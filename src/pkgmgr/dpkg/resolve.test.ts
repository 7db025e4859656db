import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { silentLogger } from '../../log.js';
import type { UpdateRequest } from '../types.js';
import type { MultiArch, PackageRecord } from './apt/index.js';
import { parseRelations, parseSourceField } from './apt/relations.js';
import { fieldValue, parseControl } from './control.js';
import { parseStatus } from './status-database.js';
import { resolveUpgrade, type CandidateSource } from './resolve.js';
import { compareDebianVersions } from './version.js';

const origin = {
  uri: 'http://127.0.0.1/debian',
  suite: 'stable',
  component: 'main',
  priority: 500,
};

/** Index records from `Packages`-style text (the fields planning reads). */
function records(text: string): PackageRecord[] {
  return parseControl(text).map((stanza) => {
    const get = (name: string) => fieldValue(stanza, name);
    const rel = (name: string) => parseRelations(get(name) ?? '');
    const name = get('Package')!;
    const version = get('Version')!;
    const source = parseSourceField(get('Source'), { name, version });
    return {
      name,
      version,
      architecture: get('Architecture') ?? 'amd64',
      multiArch: (get('Multi-Arch') ?? 'no') as MultiArch,
      source: source.name,
      sourceVersion: source.version,
      essential: false,
      protected: false,
      depends: rel('Depends'),
      preDepends: rel('Pre-Depends'),
      recommends: [],
      provides: rel('Provides'),
      breaks: rel('Breaks'),
      conflicts: rel('Conflicts'),
      replaces: rel('Replaces'),
      filename: `pool/${name}_${version}.deb`,
      sizeBytes: 0,
      sha256: '0'.repeat(64),
      origin,
      field: get,
    };
  });
}

/** The newest record per name and architecture, as apt's candidate without pins. */
function repository(list: PackageRecord[]): CandidateSource {
  return {
    candidate(name, arch = 'amd64') {
      return list
        .filter((r) => r.name === name && (r.architecture === arch || r.architecture === 'all'))
        .sort((a, b) => compareDebianVersions(b.version, a.version))[0];
    },
    providers(virtual) {
      return list.filter((r) => r.provides.some((g) => g.some((p) => p.name === virtual)));
    },
  };
}

/** Status stanzas, with `Status` and `Architecture: amd64` added where the text has none. */
function installed(text: string) {
  const stanzas = text.split(/\n\n+/).filter((t) => t.trim() !== '');
  const full = stanzas.map((t) => {
    let out = /^Status:/m.test(t)
      ? t
      : t.replace(/^(Package: .*)$/m, '$1\nStatus: install ok installed');
    if (!/^Architecture:/m.test(out)) out = `${out.trimEnd()}\nArchitecture: amd64`;
    return `${out.trimEnd()}\n`;
  });
  return parseStatus(full.join('\n'));
}

function plan(status: string, index: string, request: UpdateRequest) {
  return resolveUpgrade({
    installed: installed(status),
    repositories: repository(records(index)),
    request,
    nativeArch: 'amd64',
    logger: silentLogger,
  });
}

const want = (...packages: [string, string][]): UpdateRequest => ({
  kind: 'packages',
  packages: packages.map(([name, fixedVersion]) => ({ name, fixedVersion })),
});

const names = (p: ReturnType<typeof plan>) =>
  p.packages.map((x) => `${x.record.name}:${x.record.architecture}=${x.record.version}`).sort();

const OPENSSL_STATUS = `Package: libssl3
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.1-1

Package: openssl
Architecture: amd64
Version: 3.0.1-1
Depends: libssl3 (>= 3.0.1)
`;

const OPENSSL_INDEX = `Package: libssl3
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.2-1

Package: openssl
Architecture: amd64
Version: 3.0.2-1
Depends: libssl3 (= 3.0.2-1)
`;

describe('resolveUpgrade()', () => {
  it('upgrades binaries built from the same source together', () => {
    const p = plan(OPENSSL_STATUS, OPENSSL_INDEX, want(['libssl3', '3.0.2-1']));
    assert.deepEqual(names(p), ['libssl3:amd64=3.0.2-1', 'openssl:amd64=3.0.2-1']);
    assert.deepEqual(p.failed, []);
  });

  it('reports a package whose newest candidate is older than the fixed version', () => {
    const p = plan(OPENSSL_STATUS, OPENSSL_INDEX, want(['openssl', '3.0.3-1'], ['zlib1g', '1']));
    assert.deepEqual(names(p), []);
    assert.equal(p.failed.length, 2);
    assert.match(p.failed[0]!.reason, /no fixed version available .*"3\.0\.2-1"/);
    assert.match(p.failed[1]!.reason, /not installed/);
  });

  it('does nothing for a package already at the fixed version', () => {
    const p = plan(OPENSSL_STATUS, OPENSSL_INDEX, want(['openssl', '3.0.1-1']));
    assert.deepEqual(p.packages, []);
    assert.deepEqual(p.failed, []);
  });

  it('leaves held packages alone and reports them', () => {
    const status = OPENSSL_STATUS.replace(
      'Package: openssl\n',
      'Package: openssl\nStatus: hold ok installed\n',
    );
    const p = plan(status, OPENSSL_INDEX, want(['openssl', '3.0.2-1']));
    assert.deepEqual(p.held, ['openssl']);
    assert.deepEqual(p.packages, []);
  });

  it('installs a new dependency, preferring a real package, else a provider', () => {
    const status = 'Package: app\nArchitecture: amd64\nVersion: 1\n';
    const index = `Package: app
Architecture: amd64
Version: 2
Depends: libnew (>= 1), mail-transport-agent

Package: libnew
Architecture: amd64
Version: 1

Package: exim4
Architecture: amd64
Version: 4
Provides: mail-transport-agent
`;
    const p = plan(status, index, want(['app', '2']));
    assert.deepEqual(names(p), ['app:amd64=2', 'exim4:amd64=4', 'libnew:amd64=1']);
    assert.equal(p.packages.find((x) => x.record.name === 'libnew')?.old, undefined);
  });

  it('upgrades an installed package that the new version breaks', () => {
    const status = 'Package: lib\nVersion: 1\n\nPackage: client\nVersion: 1\nDepends: lib\n';
    const index = `Package: lib
Version: 2
Breaks: client (<< 2)

Package: client
Version: 2
`;
    const p = plan(status, index, want(['lib', '2']));
    assert.deepEqual(names(p), ['client:amd64=2', 'lib:amd64=2']);
  });

  it('upgrades reverse dependencies pinned to the old version', () => {
    const status = `Package: perl-base
Version: 5.36.0-7
Source: perl

Package: perl
Version: 5.36.0-7
Depends: perl-base (= 5.36.0-7)
`;
    const index = `Package: perl-base
Version: 5.36.0-8
Source: perl

Package: perl
Version: 5.36.0-8
Depends: perl-base (= 5.36.0-8)
`;
    const p = plan(status, index.replace('Source: perl\n', 'Source: perl\n'), {
      kind: 'packages',
      packages: [{ name: 'perl-base', fixedVersion: '5.36.0-8' }],
    });
    assert.deepEqual(names(p), ['perl-base:amd64=5.36.0-8', 'perl:amd64=5.36.0-8']);
  });

  it('moves every Multi-Arch: same instance to the same version', () => {
    const status = `Package: libx
Architecture: amd64
Multi-Arch: same
Version: 1

Package: libx
Architecture: i386
Multi-Arch: same
Version: 1
`;
    const index = status.replace(/Version: 1/g, 'Version: 2');
    const p = plan(status, index, want(['libx', '2']));
    assert.deepEqual(names(p), ['libx:amd64=2', 'libx:i386=2']);
  });

  it('fails one request whose dependency cannot be met and plans the others', () => {
    const status = 'Package: a\nVersion: 1\n\nPackage: b\nVersion: 1\n';
    const index = 'Package: a\nVersion: 2\nDepends: missing (>= 3)\n\nPackage: b\nVersion: 2\n';
    const p = plan(status, index, want(['a', '2'], ['b', '2']));
    assert.deepEqual(names(p), ['b:amd64=2']);
    assert.equal(p.failed[0]?.name, 'a');
    assert.match(p.failed[0]!.reason, /"a" 2: depends on "missing \(>= 3\)"/);
  });

  it('fails when a conflict could only be solved by removing a package', () => {
    const status = 'Package: a\nVersion: 1\n\nPackage: old\nVersion: 1\n';
    const index = 'Package: a\nVersion: 2\nConflicts: old\n';
    const p = plan(status, index, want(['a', '2']));
    assert.deepEqual(p.packages, []);
    assert.match(p.failed[0]!.reason, /would have to be removed/);
  });

  it('upgrades every package with a newer candidate for an "all" request', () => {
    const p = plan(OPENSSL_STATUS, OPENSSL_INDEX, { kind: 'all' });
    assert.deepEqual(names(p), ['libssl3:amd64=3.0.2-1', 'openssl:amd64=3.0.2-1']);
  });
});
