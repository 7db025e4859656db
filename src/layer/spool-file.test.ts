import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { SpoolFile } from './spool-file.js';

const work = mkdtempSync(join(tmpdir(), 'copa-spool-file-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('SpoolFile', () => {
  it('appends chunks of any size in order across write blocks', async () => {
    const path = join(work, 'spool-file');
    const spool = await SpoolFile.create(path);
    const chunks = [Buffer.alloc(0), randomBytes(700_000), randomBytes(10), randomBytes(2_500_000)];
    for (const chunk of chunks) await spool.append(chunk);
    assert.equal(spool.size, 3_200_010);
    await spool.close();
    assert.deepEqual(readFileSync(path), Buffer.concat(chunks));
  });
});
