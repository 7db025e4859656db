import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';

import { memoryLayer, randomImage } from '../../test/support/random-image.js';
import type { ProgressReporter, ProgressStatus } from '../progress.js';
import { RunProgress, shortDigest } from './run-progress.js';

/** A reporter that keeps every call as a line. */
function recorder(): ProgressReporter & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    start: (id, label, total) => void events.push(`start ${id} ${label} ${total ?? '-'}`),
    update: (id, bytes) => void events.push(`update ${id} ${bytes}`),
    done: (id, status: ProgressStatus) => void events.push(`done ${id} ${status}`),
  };
}

async function drain(stream: AsyncIterable<Uint8Array>): Promise<number> {
  let total = 0;
  for await (const chunk of stream) total += chunk.byteLength;
  return total;
}

describe('RunProgress', () => {
  it('reports the stored bytes of a layer when its stream is read, not before', async () => {
    const reporter = recorder();
    const layer = memoryLayer(Buffer.from('a tar, as far as this test cares'));
    const tracked = new RunProgress(reporter).layer(layer, (d) => `reading ${shortDigest(d)}`);
    const stream = await tracked.compressed();
    assert.deepEqual(reporter.events, []);

    const bytes = await drain(stream);
    const size = await layer.size();
    assert.equal(bytes, size);
    assert.deepEqual(reporter.events, [
      `start blob-1 reading ${shortDigest(await layer.digest())} ${size}`,
      `update blob-1 ${size}`,
      'done blob-1 done',
    ]);
  });

  it('counts stored bytes while the uncompressed stream is read', async () => {
    const reporter = recorder();
    const tar = Buffer.alloc(4096, 7);
    const layer = memoryLayer(tar);
    const tracked = new RunProgress(reporter).layer(layer, () => 'reading');
    assert.equal(await drain(await tracked.uncompressed()), tar.byteLength);
    assert.equal(reporter.events.at(-2), `update blob-1 ${gzipSync(tar, { level: 6 }).length}`);
    assert.equal(await tracked.diffId(), await layer.diffId());
  });

  it('reports only the first read of a layer with once', async () => {
    const reporter = recorder();
    const layer = memoryLayer(Buffer.from('tar'));
    const tracked = new RunProgress(reporter).layer(layer, () => 'reading', { once: true });
    await drain(await tracked.compressed());
    await drain(await tracked.uncompressed());
    assert.deepEqual(
      reporter.events.filter((e) => e.startsWith('start')),
      [`start blob-1 reading ${await layer.size()}`],
    );
  });

  it('wraps every layer of an image and keeps its other members', async () => {
    const reporter = recorder();
    const image = await randomImage(3, { layers: 2 });
    const tracked = new RunProgress(reporter).image(image, () => 'pushing');
    assert.equal(await tracked.digest(), await image.digest());
    for (const layer of await tracked.layers()) await drain(await layer.compressed());
    assert.deepEqual(
      reporter.events.filter((e) => e.startsWith('done')),
      ['done blob-1 done', 'done blob-2 done'],
    );
  });

  it('reports a failed phase as failed and rethrows', async () => {
    const reporter = recorder();
    const progress = new RunProgress(reporter);
    assert.equal(
      await progress.phase(
        'writing',
        async () => 'x',
        async () => 10,
      ),
      'x',
    );
    await assert.rejects(progress.phase('broken', () => Promise.reject(new Error('no'))));
    assert.deepEqual(reporter.events, [
      'start phase-1 writing -',
      'update phase-1 10',
      'done phase-1 done',
      'start phase-2 broken -',
      'done phase-2 failed',
    ]);
  });
});
