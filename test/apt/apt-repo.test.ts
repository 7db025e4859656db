import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { buildDeb, startAptRepository } from '../support/apt-repo.js';

const run = promisify(execFile);

test('buildDeb writes control fields, conffiles, scripts and links with the chosen compression', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'copa-build-deb-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const deb = await buildDeb(
    {
      name: 'tool',
      version: '2:1.0-1',
      arch: 'arm64',
      multiArch: 'foreign',
      depends: 'libc6 (>= 2.36)',
      compression: 'zstd',
      files: {
        'usr/bin/tool': { content: '#!/bin/sh\n', mode: 0o755 },
        'usr/bin/tool-link': { symlink: 'tool' },
        'usr/bin/tool-hard': { hardlink: 'usr/bin/tool' },
        'etc/tool.conf': 'x=1\n',
      },
      conffiles: ['/etc/tool.conf'],
      scripts: { postinst: '#!/bin/sh\nexit 0\n' },
    },
    dir,
    path.join(dir, 'scratch'),
  );
  assert.equal(path.basename(deb), 'tool_1.0-1_arm64.deb');
  const field = (name: string) =>
    execFileSync('dpkg-deb', ['--field', deb, name]).toString().trim();
  assert.equal(field('Version'), '2:1.0-1');
  assert.equal(field('Multi-Arch'), 'foreign');
  assert.equal(field('Depends'), 'libc6 (>= 2.36)');
  const ar = execFileSync('ar', ['t', deb]).toString().split('\n');
  assert.ok(ar.includes('data.tar.zst'), ar.join(' '));
  const info = execFileSync('dpkg-deb', ['--info', deb]).toString();
  assert.match(info, /conffiles/);
  assert.match(info, /postinst/);
  const listing = execFileSync('dpkg-deb', ['--contents', deb]).toString();
  assert.match(listing, /\.\/usr\/bin\/tool-link -> tool/);
  assert.match(listing, /\.\/usr\/bin\/tool-hard link to \.\/usr\/bin\/tool/);
  assert.match(listing, /-rwxr-xr-x root\/root .* \.\/usr\/bin\/tool\n/);
});

test('startAptRepository publishes prebuilt debs and answers apt-get', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'copa-prebuilt-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const deb = await buildDeb({ name: 'pre', version: '1' }, dir, path.join(dir, 'scratch'));
  const repo = await startAptRepository({ debs: [{ path: deb }], architectures: ['amd64'] });
  t.after(() => repo.stop());
  assert.ok(repo.debs.has('pre_1_amd64'));
  // The real apt reads the repository too: the harness makes what apt accepts.
  const state = path.join(dir, 'apt');
  await fs.mkdir(path.join(state, 'lists/partial'), { recursive: true });
  await fs.mkdir(path.join(state, 'etc/sources.list.d'), { recursive: true });
  await fs.writeFile(
    path.join(state, 'etc/sources.list.d/t.sources'),
    `Types: deb\nURIs: ${repo.url}\nSuites: stable\nComponents: main\nSigned-By: ${repo.keyringPath}\n`,
  );
  const opts = [
    `-oDir::State::Lists=${state}/lists`,
    `-oDir::Etc::SourceList=/dev/null`,
    `-oDir::Etc::SourceParts=${state}/etc/sources.list.d`,
    `-oDir::Cache=${state}/cache`,
    '-oAPT::Architecture=amd64',
    '-oDebug::NoLocking=1',
  ];
  // Asynchronously: the repository's server runs in this process.
  await run('apt-get', [...opts, 'update']);
  const { stdout: policy } = await run('apt-cache', [...opts, 'policy', 'pre']);
  assert.match(policy, /Candidate: 1/);
});
