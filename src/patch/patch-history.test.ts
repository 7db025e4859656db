import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ConfigFile } from '../image/types.js';
import { compareDebianVersions } from '../pkgmgr/dpkg/version.js';
import { findPreviousPatch, mergeRequested, patchHistoryEntry } from './patch-history.js';

const diff = (c: string) => `sha256:${c.repeat(64)}`;

function config(history: ConfigFile['history'], layers: number): ConfigFile {
  return {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: Array.from({ length: layers }, (_, i) => diff(String(i))) },
    history,
  };
}

test('findPreviousPatch() reads the packages of a copa layer on top', () => {
  const entry = patchHistoryEntry(
    [
      { name: 'openssl', arch: 'amd64', fromVersion: '1', toVersion: '3.0.22-1~deb12u2' },
      { name: 'libssl3', arch: 'amd64', fromVersion: '1', toVersion: '3.0.22-1~deb12u2' },
    ],
    '2024-01-01T00:00:00Z',
  );
  assert.equal(entry.created_by, 'copa patch: libssl3=3.0.22-1~deb12u2 openssl=3.0.22-1~deb12u2');
  const found = findPreviousPatch(
    config([{ created_by: 'base' }, { created_by: 'ENV', empty_layer: true }, entry], 2),
  );
  assert.deepEqual(found, {
    layerIndex: 1,
    packages: [
      { name: 'libssl3', fixedVersion: '3.0.22-1~deb12u2' },
      { name: 'openssl', fixedVersion: '3.0.22-1~deb12u2' },
    ],
  });
});

test('findPreviousPatch() finds nothing in an image copa did not patch', () => {
  assert.equal(findPreviousPatch(config([{ created_by: 'base' }], 1)), undefined);
  assert.equal(findPreviousPatch(config(undefined, 1)), undefined);
  const entry = patchHistoryEntry([], '2024-01-01T00:00:00Z');
  assert.equal(findPreviousPatch(config([entry], 2)), undefined, 'history and layers disagree');
});

test('mergeRequested() keeps the higher requirement of each package', () => {
  const merged = mergeRequested(
    [
      { name: 'a', fixedVersion: '2' },
      { name: 'b', fixedVersion: '1:1' },
    ],
    [
      { name: 'b', fixedVersion: '2' },
      { name: 'c', fixedVersion: '1' },
    ],
    compareDebianVersions,
  );
  assert.deepEqual(merged, [
    { name: 'a', fixedVersion: '2' },
    { name: 'b', fixedVersion: '1:1' },
    { name: 'c', fixedVersion: '1' },
  ]);
});
