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
import { checkStanza, KEPT_FIELDS, lazyPackageRecord } from './package-record.js';
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
 * Returns the records of an index whose compressed file is `file`. The kept fields of its usable
 * stanzas are also written under `parsedDir` (by the index's SHA-256) in a compact stanza text,
 * which later runs read instead of decompressing again: xz decompression of a 50 MB index costs
 * seconds, scanning the compact text a fraction. Records hold only their name until a lookup reads
 * the rest from that text, so an index costs about its compact size in memory, not objects for
 * every field of 60,000 stanzas. Stanzas lacking download fields are skipped.
 */
export async function readPackagesIndex(options: {
  readonly file: string;
  readonly sha256: string;
  readonly compression: IndexCompression;
  readonly parsedDir: string;
  readonly origin: RepositoryOrigin;
  readonly logger: Logger;
  readonly signal?: AbortSignal | undefined;
}): Promise<PackageRecord[]> {
  const parsedFile = path.join(options.parsedDir, `${options.sha256}.stanzas`);
  const cached = await fs.readFile(parsedFile).catch(() => undefined);
  const records = cached === undefined ? undefined : compactRecords(cached, options.origin);
  if (records !== undefined) return records;
  const text = await compactIndex(options);
  await writeAtomic(parsedFile, text);
  return compactRecords(text, options.origin) ?? [];
}

/** Streams an index into the compact text of its usable stanzas (see {@link formatStanza}). */
async function compactIndex(options: {
  readonly file: string;
  readonly compression: IndexCompression;
  readonly origin: RepositoryOrigin;
  readonly logger: Logger;
  readonly signal?: AbortSignal | undefined;
}): Promise<Buffer> {
  const raw = createReadStream(options.file, { highWaterMark: 1 << 20 });
  let input: AsyncIterable<Buffer> = raw;
  if (options.compression === 'xz') input = raw.pipe(lzma.createDecompressor());
  if (options.compression === 'gz') input = raw.pipe(createGunzip());
  // Text is turned into bytes a megabyte at a time, so the whole index is never held as strings.
  const chunks: Buffer[] = [];
  let pending = '';
  let skipped = 0;
  try {
    for await (const fields of parseStanzas(input)) {
      options.signal?.throwIfAborted();
      if (checkStanza(fields) !== undefined) {
        skipped++;
        continue;
      }
      pending += formatStanza(fields);
      if (pending.length >= 1 << 20) {
        chunks.push(Buffer.from(pending, 'utf8'));
        pending = '';
      }
    }
  } finally {
    raw.destroy();
  }
  chunks.push(Buffer.from(pending, 'utf8'));
  if (skipped > 0) {
    const { uri, suite } = options.origin;
    options.logger.debug(`skipped ${skipped} unusable stanzas of "${uri}" "${suite}"`);
  }
  return Buffer.concat(chunks);
}

/**
 * One stanza as `name: value` lines, `package` first and `provides` (when present) second, so a
 * scan finds both without parsing the rest; continuation lines start with a space and a blank line
 * ends the stanza. {@link parseStanzas} reads it back to the same fields.
 */
function formatStanza(fields: StanzaFields): string {
  let out = `package: ${fields['package']}\n`;
  if (fields['provides'] !== undefined) out += `provides: ${continued(fields['provides'])}\n`;
  for (const [name, value] of Object.entries(fields)) {
    if (name !== 'package' && name !== 'provides') out += `${name}: ${continued(value)}\n`;
  }
  return `${out}\n`;
}

function continued(value: string): string {
  return value.replaceAll('\n', '\n ');
}

const PACKAGE_PREFIX = Buffer.from('package: ');
const PROVIDES_PREFIX = Buffer.from('provides:');

/** Lazy records over compact stanza text, or `undefined` when the text is not in that format. */
function compactRecords(text: Buffer, origin: RepositoryOrigin): PackageRecord[] | undefined {
  const records: PackageRecord[] = [];
  let pos = 0;
  while (pos < text.length) {
    const eol = text.indexOf(NEWLINE, pos);
    if (eol < 0 || text.compare(PACKAGE_PREFIX, 0, 9, pos, pos + 9) !== 0) return undefined;
    const blank = text.indexOf('\n\n', eol - 1);
    const end = blank < 0 ? text.length : blank + 1;
    const name = text.toString('utf8', pos + PACKAGE_PREFIX.length, eol);
    const hasProvides = text.compare(PROVIDES_PREFIX, 0, 9, eol + 1, eol + 10) === 0;
    const start = pos;
    records.push(
      lazyPackageRecord({ name, hasProvides, origin }, () => stanzaAt(text, start, end)),
    );
    pos = end + 1;
  }
  return records;
}

function stanzaAt(text: Buffer, start: number, end: number): StanzaFields {
  for (const fields of stanzasIn(text, start, end)) return fields;
  throw new Error(`reading the stanza at ${start} of a parsed index: it is empty`);
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
