/**
 * A streaming reader of `Packages` indexes (`Packages`, `.gz`, `.xz`). Bookworm's main index
 * holds about 60,000 stanzas; only the fields in {@link KEPT_FIELDS} are decoded.
 */
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';

import type { Logger } from '../../../log.js';
import { KEPT_FIELDS, toPackageRecord } from './package-record.js';
import { writeAtomic } from './write-atomic.js';
import type { PackageRecord, RepositoryOrigin } from './types.js';

const lzma = createRequire(import.meta.url)('lzma-native') as {
  createDecompressor(): Transform;
};

const NEWLINE = 0x0a;
const COLON = 0x3a;
const SPACE = 0x20;
const TAB = 0x09;

/** How an index file is compressed, from its name in the Release file. */
export type IndexCompression = 'xz' | 'gz' | 'none';

/** Raw kept fields of one stanza, by lower-case name. */
export type StanzaFields = Record<string, string>;

/**
 * Returns the records of an index whose compressed file is `file`. The kept fields are also
 * written as JSON under `parsedDir` (by the index's SHA-256), which later runs read instead of
 * decompressing again: xz decompression of a 50 MB index costs seconds, JSON parsing a fraction.
 * Stanzas lacking download fields are skipped.
 */
export async function readPackagesIndex(options: {
  readonly file: string;
  readonly sha256: string;
  readonly compression: IndexCompression;
  readonly parsedDir: string;
  readonly origin: RepositoryOrigin;
  readonly logger: Logger;
}): Promise<PackageRecord[]> {
  const parsedFile = path.join(options.parsedDir, `${options.sha256}.json`);
  let stanzas = await readParsed(parsedFile);
  if (stanzas === undefined) {
    stanzas = await readStanzas(options.file, options.compression);
    await writeAtomic(parsedFile, Buffer.from(JSON.stringify(stanzas)));
  }
  const records: PackageRecord[] = [];
  let skipped = 0;
  for (const fields of stanzas) {
    const record = toPackageRecord(fields, options.origin);
    if (typeof record === 'string') skipped++;
    else records.push(record);
  }
  if (skipped > 0) {
    const { uri, suite } = options.origin;
    options.logger.debug(`skipped ${skipped} unusable stanzas of "${uri}" "${suite}"`);
  }
  return records;
}

async function readParsed(file: string): Promise<StanzaFields[] | undefined> {
  try {
    const value: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    return Array.isArray(value) ? (value as StanzaFields[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Decompresses and parses an index file into the kept fields of its stanzas. */
export async function readStanzas(
  file: string,
  compression: IndexCompression,
): Promise<StanzaFields[]> {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  let input: AsyncIterable<Buffer> = raw;
  if (compression === 'xz') input = raw.pipe(lzma.createDecompressor());
  if (compression === 'gz') input = raw.pipe(createGunzip());
  const stanzas: StanzaFields[] = [];
  try {
    for await (const fields of parseStanzas(input)) stanzas.push(fields);
  } finally {
    raw.destroy();
  }
  return stanzas;
}

/**
 * Splits a byte stream into stanzas of kept fields (lower-case names). Continuation lines of kept
 * fields are joined with `\n`; values are trimmed.
 */
export async function* parseStanzas(input: AsyncIterable<Buffer>): AsyncGenerator<StanzaFields> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of input) {
    const buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    const end = lastParagraphEnd(buf);
    if (end < 0) {
      rest = buf;
      continue;
    }
    yield* stanzasIn(buf, 0, end);
    rest = buf.subarray(end);
  }
  if (rest.length > 0) yield* stanzasIn(rest, 0, rest.length);
}

/** The offset just after the last blank line of `buf`, or -1. */
function lastParagraphEnd(buf: Buffer): number {
  const at = buf.lastIndexOf('\n\n');
  return at < 0 ? -1 : at + 2;
}

function* stanzasIn(buf: Buffer, start: number, end: number): Generator<StanzaFields> {
  let fields: Record<string, string> = {};
  let count = 0;
  let current: string | undefined;
  let pos = start;
  while (pos < end) {
    let eol = buf.indexOf(NEWLINE, pos);
    if (eol < 0 || eol > end) eol = end;
    let lineEnd = eol;
    if (lineEnd > pos && buf[lineEnd - 1] === 0x0d) lineEnd--;
    const first = buf[pos];
    if (lineEnd === pos) {
      if (count > 0) yield fields;
      fields = {};
      count = 0;
      current = undefined;
    } else if (first === SPACE || first === TAB) {
      if (current !== undefined) {
        fields[current] = `${fields[current]}\n${buf.toString('utf8', pos, lineEnd).trim()}`;
      }
    } else {
      current = readField(buf, pos, lineEnd, fields);
      if (current !== undefined) count++;
    }
    pos = eol + 1;
  }
  if (count > 0) yield fields;
}

/** Stores a `Name: value` line when its field is kept and returns the field's name. */
function readField(
  buf: Buffer,
  pos: number,
  lineEnd: number,
  fields: Record<string, string>,
): string | undefined {
  const colon = buf.indexOf(COLON, pos);
  if (colon < 0 || colon > lineEnd) return undefined;
  const name = buf.toString('latin1', pos, colon).toLowerCase();
  if (!KEPT_FIELDS.has(name)) return undefined;
  fields[name] = buf.toString('utf8', colon + 1, lineEnd).trim();
  return name;
}
