/**
 * A streaming reader of `Packages` indexes (`Packages`, `.gz`, `.xz`). Bookworm's main index
 * holds about 60,000 stanzas; only the fields in {@link KEPT_FIELDS} are decoded.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';

import { CopaError } from '../../../errors.js';
import type { Logger } from '../../../log.js';
import { KEPT_FIELDS, lazyPackageRecord } from './package-record.js';
import { StanzaCompactor } from './stanza-compactor.js';
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
 * seconds, scanning the compact text a fraction. Records hold only their name (and `Provides`)
 * and where their stanza lies in that file; a lookup reads the rest from the file. An index of
 * 60,000 stanzas so costs a few megabytes in memory, not its 30 MB of text. Stanzas lacking
 * download fields are skipped.
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
  const cached = await compactFileRecords(parsedFile, options.origin);
  if (cached !== undefined) return cached;
  await compactIndex(options, parsedFile);
  const records = await compactFileRecords(parsedFile, options.origin);
  if (records === undefined) {
    throw new CopaError('INTERNAL', `reading the parsed package index "${parsedFile}": it is gone`);
  }
  return records;
}

/**
 * Streams an index into the compact text of its usable stanzas (see {@link StanzaCompactor}),
 * written to `dest` through a temporary file and a rename, so readers never see half of it.
 */
async function compactIndex(
  options: {
    readonly file: string;
    readonly compression: IndexCompression;
    readonly origin: RepositoryOrigin;
    readonly logger: Logger;
    readonly signal?: AbortSignal | undefined;
  },
  dest: string,
): Promise<void> {
  const raw = createReadStream(options.file, { highWaterMark: 1 << 20 });
  let input: AsyncIterable<Buffer> = raw;
  if (options.compression === 'xz') input = raw.pipe(lzma.createDecompressor());
  if (options.compression === 'gz') input = raw.pipe(createGunzip());
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const temp = `${dest}.${randomBytes(6).toString('hex')}.tmp`;
  const out = await fs.open(temp, 'wx');
  // The index is read and the compact text written a megabyte at a time, never held whole.
  const compactor = new StanzaCompactor((block) => out.writeFile(block));
  try {
    for await (const chunk of input) {
      options.signal?.throwIfAborted();
      await compactor.write(chunk);
    }
    await compactor.end();
    await out.close();
    await fs.rename(temp, dest);
  } catch (err) {
    await out.close().catch(() => undefined);
    await fs.rm(temp, { force: true });
    throw err;
  } finally {
    raw.destroy();
  }
  const skipped = compactor.skipped;
  if (skipped > 0) {
    const { uri, suite } = options.origin;
    options.logger.debug(`skipped ${skipped} unusable stanzas of "${uri}" "${suite}"`);
  }
}

const PACKAGE_PREFIX = Buffer.from('package: ');
const PROVIDES_PREFIX = Buffer.from('provides:');
const SCAN_CHUNK = 4 << 20;

/** Where one stanza of compact text lies, with what a record holds before its first lookup. */
interface StanzaHead {
  readonly name: string;
  readonly provides: string | undefined;
  readonly start: number;
  readonly end: number;
}

/**
 * Lazy records over the compact stanza text in `file`, scanned a few megabytes at a time, or
 * `undefined` when the file is absent or not in that format. The file is named by the index's
 * hash and replaced only atomically by the same bytes, so the offsets stay valid while it exists.
 */
async function compactFileRecords(
  file: string,
  origin: RepositoryOrigin,
): Promise<PackageRecord[] | undefined> {
  const handle = await fs.open(file, 'r').catch(() => undefined);
  if (handle === undefined) return undefined;
  const heads: StanzaHead[] = [];
  try {
    let buf = Buffer.allocUnsafe(SCAN_CHUNK);
    let filled = 0;
    let base = 0;
    for (;;) {
      if (filled === buf.length) buf = Buffer.concat([buf, Buffer.allocUnsafe(buf.length)]);
      const { bytesRead } = await handle.read(buf, filled, buf.length - filled, base + filled);
      filled += bytesRead;
      const final = bytesRead === 0;
      const used = scanStanzas(buf.subarray(0, filled), base, final, heads);
      if (used === undefined) return undefined;
      if (final) break;
      buf.copyWithin(0, used, filled);
      base += used;
      filled -= used;
    }
  } finally {
    await handle.close();
  }
  return headRecords(heads, (start, end) => readRange(file, start, end), origin);
}

function headRecords(
  heads: readonly StanzaHead[],
  read: (start: number, end: number) => Buffer,
  origin: RepositoryOrigin,
): PackageRecord[] {
  const stanza = (start: number, end: number): StanzaFields => {
    const text = read(start, end);
    return stanzaAt(text, 0, text.length);
  };
  return heads.map((head) => lazyPackageRecord({ ...head, origin }, stanza));
}

/**
 * Records the stanzas of `buf` (at offset `base` of its file) that end within it, and returns
 * the offset in `buf` where the first incomplete one starts; with `final`, the last stanza may
 * end without a blank line. Returns `undefined` when the text is not compact stanza text.
 */
function scanStanzas(
  buf: Buffer,
  base: number,
  final: boolean,
  out: StanzaHead[],
): number | undefined {
  let pos = 0;
  while (pos < buf.length) {
    const eol = buf.indexOf(NEWLINE, pos);
    if (eol < 0 && !final) return pos;
    if (eol < 0 || buf.compare(PACKAGE_PREFIX, 0, 9, pos, pos + 9) !== 0) return undefined;
    const blank = buf.indexOf('\n\n', eol - 1);
    if (blank < 0 && !final) return pos;
    const end = blank < 0 ? buf.length : blank + 1;
    const name = buf.toString('utf8', pos + PACKAGE_PREFIX.length, eol);
    const hasProvides = buf.compare(PROVIDES_PREFIX, 0, 9, eol + 1, eol + 10) === 0;
    const provides = hasProvides ? fieldValueAt(buf, eol + 10, end) : undefined;
    out.push({ name, provides, start: base + pos, end: base + end });
    pos = end + 1;
  }
  return pos;
}

/** The value of a field starting at `from` (after its colon), continuation lines joined. */
function fieldValueAt(buf: Buffer, from: number, end: number): string {
  let stop = buf.indexOf(NEWLINE, from);
  while (stop >= 0 && stop + 1 < end && (buf[stop + 1] === SPACE || buf[stop + 1] === TAB)) {
    stop = buf.indexOf(NEWLINE, stop + 1);
  }
  return buf
    .toString('utf8', from, stop < 0 || stop > end ? end : stop)
    .split('\n')
    .map((line) => line.trim())
    .join('\n')
    .trim();
}

/** Reads bytes `[start, end)` of `file`. */
function readRange(file: string, start: number, end: number): Buffer {
  const buf = Buffer.allocUnsafe(end - start);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    let done = 0;
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, start + done);
      if (n === 0) throw new Error('the file is shorter than when it was scanned');
      done += n;
    }
    return buf;
  } catch (err) {
    throw new CopaError(
      'INTERNAL',
      `reading the parsed package index "${file}": ${(err as Error).message}`,
      { hint: "Do not remove copa's cache while it runs; run copa again.", cause: err },
    );
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
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
