import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { memoryLayer } from '../../test/support/random-image.js';
import { hasRemoteSource, type ByteStream, type Layer } from '../image/index.js';
import { spooledLayer } from './spooled-layer.js';

async function collect(stream: ByteStream): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The layer, with the number of times its stored bytes were asked for. */
function counted(layer: Layer): Layer & { reads: () => number } {
  let reads = 0;
  return {
    ...layer,
    reads: () => reads,
    compressed: async () => {
      reads += 1;
      return layer.compressed();
    },
  };
}

/** A layer whose stored bytes come in small chunks, so that a read can stop part-way. */
function chunkedLayer(tar: Buffer): Layer {
  const base = memoryLayer(tar);
  return {
    ...base,
    compressed: async () => {
      const bytes = await collect(await base.compressed());
      return (async function* () {
        for (let i = 0; i < bytes.byteLength; i += 100) yield bytes.subarray(i, i + 100);
      })();
    },
  };
}

describe('spooledLayer', () => {
  let dir: string;
  before(async () => void (dir = await mkdtemp(join(tmpdir(), 'copa-spooled-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads the source once and later reads the same bytes from the file', async () => {
    const tar = Buffer.alloc(64 * 1024, 'spooled layer bytes ');
    const source = counted(memoryLayer(tar));
    const layer = spooledLayer(source, { dir: join(dir, 'once') });

    const first = await collect(await layer.compressed());
    const second = await collect(await layer.compressed());
    assert.deepEqual(await collect(await layer.uncompressed()), tar);
    assert.equal(source.reads(), 1);
    assert.deepEqual(second, first);
    assert.deepEqual(first, await collect(await memoryLayer(tar).compressed()));
    const digest = await source.digest();
    assert.deepEqual(await readdir(join(dir, 'once')), [digest.replace(':', '-')]);
  });

  it('keeps the digest, diffId, size, media type and other properties of the layer', async () => {
    const remoteSource = { registry: '127.0.0.1:5000', repository: 'library/x' };
    const source = Object.assign(memoryLayer(Buffer.from('tar')), { remoteSource });
    const layer = spooledLayer(source, { dir: join(dir, 'props') });
    assert.equal(await layer.digest(), await source.digest());
    assert.equal(await layer.diffId(), await source.diffId());
    assert.equal(await layer.size(), await source.size());
    assert.equal(await layer.mediaType(), await source.mediaType());
    assert.ok(hasRemoteSource(layer));
    assert.deepEqual(layer.remoteSource, remoteSource);
  });

  it('leaves no file when the first read stops early, and reads the source again', async () => {
    const tar = Buffer.alloc(32 * 1024, 'partial ');
    const source = counted(chunkedLayer(tar));
    const layer = spooledLayer(source, { dir: join(dir, 'stopped') });

    for await (const chunk of await layer.compressed()) {
      assert.ok(chunk.byteLength > 0);
      break;
    }
    assert.deepEqual(await readdir(join(dir, 'stopped')), []);
    assert.deepEqual(await collect(await layer.uncompressed()), tar);
    await collect(await layer.uncompressed());
    assert.equal(source.reads(), 2);
  });

  it('leaves no file when the source fails part-way', async () => {
    const base = memoryLayer(Buffer.alloc(1024, 1));
    let fail = true;
    const source: Layer = {
      ...base,
      compressed: async () => {
        const bytes = await collect(await base.compressed());
        return (async function* () {
          yield bytes.subarray(0, 10);
          if (fail) throw new Error('connection reset');
          yield bytes.subarray(10);
        })();
      },
    };
    const layer = spooledLayer(source, { dir: join(dir, 'failed') });
    await assert.rejects(collect(await layer.compressed()), /connection reset/);
    assert.deepEqual(await readdir(join(dir, 'failed')), []);
    fail = false;
    await collect(await layer.compressed());
    assert.equal((await readdir(join(dir, 'failed'))).length, 1);
  });

  it('keeps no file when the bytes do not match the digest', async () => {
    const source: Layer = {
      ...memoryLayer(Buffer.from('a')),
      digest: async () => `sha256:${'0'.repeat(64)}`,
    };
    const layer = spooledLayer(source, { dir: join(dir, 'mismatch') });
    await collect(await layer.compressed());
    assert.deepEqual(await readdir(join(dir, 'mismatch')), []);
  });
});
