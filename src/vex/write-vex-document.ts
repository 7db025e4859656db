import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { CopaError } from '../errors.js';
import type { VexDocument } from './types.js';

/**
 * Writes a VEX document as indented JSON. The file is written beside its final path and then
 * renamed into place, so readers never see half a document.
 *
 * Throws a `CopaError` with code `VEX_INVALID` naming the path when it cannot be written.
 */
export async function writeVexDocument(path: string, doc: VexDocument): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o644, flag: 'wx' });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw new CopaError(
      'VEX_INVALID',
      `writing VEX document "${path}": ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}
