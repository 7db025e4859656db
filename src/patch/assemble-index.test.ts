import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { IndexManifest } from '../image/types.js';
import { indexChanges, patchTime } from './assemble-index.js';

const oci = 'application/vnd.oci.image.manifest.v1+json';
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const attestation = (of: string, own: string) => ({
  mediaType: oci,
  digest: own,
  size: 1,
  platform: { os: 'unknown', architecture: 'unknown' },
  annotations: {
    'vnd.docker.reference.type': 'attestation-manifest',
    'vnd.docker.reference.digest': of,
  },
});

const source: IndexManifest = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    {
      mediaType: oci,
      digest: digest('a'),
      size: 1,
      platform: { os: 'linux', architecture: 'amd64' },
      annotations: { keep: 'me' },
    },
    {
      mediaType: oci,
      digest: digest('b'),
      size: 1,
      platform: { os: 'linux', architecture: 'arm64' },
    },
    attestation(digest('a'), digest('c')),
    attestation(digest('b'), digest('d')),
  ],
  annotations: { 'org.example': 'x' },
};

test('indexChanges() drops the attestations of replaced images and keeps the others', () => {
  const created = '2024-01-01T00:00:00Z';
  const changes = indexChanges(source, {
    replaced: new Set([digest('a')]),
    created,
    from: 'r/app@sha256:1',
  });
  assert.deepEqual([...changes.droppedAttestations], [digest('c')]);
  assert.deepEqual(changes.entryAnnotations.get(digest('a')), {
    keep: 'me',
    'org.opencontainers.image.created': created,
    'sh.copa.patched': created,
  });
  assert.equal(changes.entryAnnotations.has(digest('b')), false);
  assert.equal(changes.annotations['org.opencontainers.image.created'], created);
  assert.equal(changes.annotations['sh.copa.patched.from'], 'r/app@sha256:1');
});

test('patchTime() follows SOURCE_DATE_EPOCH when it is set', () => {
  assert.equal(patchTime({ SOURCE_DATE_EPOCH: '1704067200' }), '2024-01-01T00:00:00Z');
  assert.match(patchTime({}), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});
