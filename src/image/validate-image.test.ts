import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { fixtureImage, fixtureIndex, textFile } from '../../test/image/fixture-image.js';
import { isCopaError } from '../errors.js';
import { fileLayer } from '../layer/file-layer.js';
import { writeLayer } from '../layer/write-layer.js';
import { appendLayer } from './mutate.js';
import { validateImage, validateIndex } from './validate-image.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copa-validate-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('validateImage()', () => {
  it('accepts an image with a layer appended', async () => {
    const base = await fixtureImage({ dir });
    const layer = await writeLayer([textFile('a', 'b')], { compression: 'zstd', dir });
    await validateImage(appendLayer(base, layer, { history: {} }));
  });

  it('fails with DIGEST_MISMATCH when a layer does not match its diffId', async () => {
    const base = await fixtureImage({ dir });
    const real = await writeLayer([textFile('a', 'b')], { compression: 'gzip', dir });
    const wrong = fileLayer(real.path, {
      mediaType: await real.mediaType(),
      digest: await real.digest(),
      diffId: `sha256:${'0'.repeat(64)}`,
    });
    await assert.rejects(validateImage(appendLayer(base, wrong, { history: {} })), (e) =>
      isCopaError(e, 'DIGEST_MISMATCH'),
    );
  });
});

describe('validateIndex()', () => {
  it('checks every image of a nested index', async () => {
    const a = await fixtureImage({ dir });
    const b = await fixtureImage({ dir, platform: { os: 'linux', architecture: 'arm64' } });
    const inner = await fixtureIndex([{ image: b }]);
    await validateIndex(await fixtureIndex([{ image: a }, { image: inner }]));
  });
});
