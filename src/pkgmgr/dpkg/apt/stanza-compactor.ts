/**
 * Turns the text of a `Packages` index into compact stanza text at the byte level: the kept
 * fields of each downloadable stanza, `package` first and `provides` second, as lower-case
 * `name: value` lines with continuation lines kept (each trimmed, after one space), a blank line
 * after each stanza. No string or object is made per line or field, so compacting bookworm's 50
 * MB main index creates almost no garbage.
 */
import { KEPT_FIELDS, REQUIRED_FIELDS } from './package-record.js';

const NEWLINE = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;

/** The kept names as bytes, indexed by their position in {@link KEPT_FIELDS}. */
const NAMES = [...KEPT_FIELDS].map((n) => Buffer.from(n, 'latin1'));
/** Indexes into {@link NAMES} by name length. */
const BY_LENGTH = new Map<number, number[]>();
NAMES.forEach((name, i) => BY_LENGTH.set(name.length, [...(BY_LENGTH.get(name.length) ?? []), i]));
const field = (name: string): number => NAMES.findIndex((n) => n.toString('latin1') === name);
const PACKAGE = field('package');
const PROVIDES = field('provides');
const SIZE = field('size');
const SHA256 = field('sha256');
const REQUIRED = REQUIRED_FIELDS.map(field);

const OUTPUT_BLOCK = 1 << 20;

/** Receives compacted text in blocks of about a megabyte. */
export type CompactSink = (block: Buffer) => Promise<void>;

/** See the module comment. Feed it the index in chunks of any size, then call `end`. */
export class StanzaCompactor {
  /** Stanzas without a required field or with an invalid `Size` or `SHA256`. */
  skipped = 0;
  readonly #sink: CompactSink;
  #rest: Buffer = Buffer.alloc(0);
  #out = Buffer.allocUnsafe(OUTPUT_BLOCK);
  #outBytes = 0;
  // The kept fields of the stanza being read: name index, first value range, range count.
  #fieldName = new Int32Array(64);
  #fieldFirst = new Int32Array(64);
  #fieldCount = new Int32Array(64);
  #fields = 0;
  #rangeStart = new Int32Array(1024);
  #rangeEnd = new Int32Array(1024);
  #ranges = 0;

  constructor(sink: CompactSink) {
    this.#sink = sink;
  }

  async write(chunk: Buffer): Promise<void> {
    const buf = this.#rest.length === 0 ? chunk : Buffer.concat([this.#rest, chunk]);
    const at = buf.lastIndexOf('\n\n');
    if (at < 0) {
      this.#rest = buf;
      return;
    }
    this.#compact(buf, at + 2);
    this.#rest = Buffer.from(buf.subarray(at + 2));
    if (this.#outBytes >= OUTPUT_BLOCK / 2) await this.#flush();
  }

  async end(): Promise<void> {
    if (this.#rest.length > 0) this.#compact(this.#rest, this.#rest.length);
    this.#rest = Buffer.alloc(0);
    await this.#flush();
  }

  /** Compacts the stanzas in `buf[0, end)`, which ends at a stanza boundary. */
  #compact(buf: Buffer, end: number): void {
    let current = -1;
    let pos = 0;
    this.#fields = 0;
    this.#ranges = 0;
    while (pos < end) {
      let eol = buf.indexOf(NEWLINE, pos);
      if (eol < 0 || eol > end) eol = end;
      let lineEnd = eol;
      if (lineEnd > pos && buf[lineEnd - 1] === CR) lineEnd--;
      if (lineEnd === pos) {
        this.#endStanza(buf);
        current = -1;
      } else if (buf[pos] === 0x20 || buf[pos] === 0x09) {
        if (current >= 0) {
          this.#addRange(buf, pos, lineEnd);
          this.#fieldCount[current]! += 1;
        }
      } else {
        current = this.#startField(buf, pos, lineEnd);
      }
      pos = eol + 1;
    }
    this.#endStanza(buf);
  }

  /** Records a `Name: value` line of a kept field; returns its slot, or -1 when not kept. */
  #startField(buf: Buffer, pos: number, lineEnd: number): number {
    const colon = buf.indexOf(COLON, pos);
    if (colon < 0 || colon > lineEnd) return -1;
    const name = keptName(buf, pos, colon);
    if (name < 0) return -1;
    // A repeated field replaces the value but keeps its place, as a record of fields would.
    let slot = 0;
    while (slot < this.#fields && this.#fieldName[slot] !== name) slot++;
    if (slot === this.#fields) {
      if (slot === this.#fieldName.length) this.#growFields();
      this.#fields++;
    }
    this.#fieldName[slot] = name;
    this.#fieldFirst[slot] = this.#ranges;
    this.#fieldCount[slot] = 1;
    this.#addRange(buf, colon + 1, lineEnd);
    return slot;
  }

  #addRange(buf: Buffer, start: number, end: number): void {
    while (start < end && isBlank(buf[start]!)) start++;
    while (end > start && isBlank(buf[end - 1]!)) end--;
    if (this.#ranges === this.#rangeStart.length) {
      this.#rangeStart = grow(this.#rangeStart);
      this.#rangeEnd = grow(this.#rangeEnd);
    }
    this.#rangeStart[this.#ranges] = start;
    this.#rangeEnd[this.#ranges] = end;
    this.#ranges++;
  }

  #growFields(): void {
    this.#fieldName = grow(this.#fieldName);
    this.#fieldFirst = grow(this.#fieldFirst);
    this.#fieldCount = grow(this.#fieldCount);
  }

  /** Writes the stanza read so far when it is downloadable, and starts the next one. */
  #endStanza(buf: Buffer): void {
    const fields = this.#fields;
    if (fields === 0) return;
    let usable = this.#valid(buf);
    for (const name of REQUIRED) if (this.#slotOf(name) < 0) usable = false;
    if (usable) {
      const provides = this.#slotOf(PROVIDES);
      this.#writeField(buf, this.#slotOf(PACKAGE));
      if (provides >= 0) this.#writeField(buf, provides);
      for (let s = 0; s < fields; s++) {
        const name = this.#fieldName[s];
        if (name !== PACKAGE && name !== PROVIDES) this.#writeField(buf, s);
      }
      this.#append(NEWLINE_BYTES, 0, 1);
    } else {
      this.skipped++;
    }
    this.#fields = 0;
    this.#ranges = 0;
  }

  #slotOf(name: number): number {
    for (let s = 0; s < this.#fields; s++) if (this.#fieldName[s] === name) return s;
    return -1;
  }

  /** `Size` is a whole number of at most 15 digits and `SHA256` 64 hex digits, on one line. */
  #valid(buf: Buffer): boolean {
    const size = this.#slotOf(SIZE);
    const sha = this.#slotOf(SHA256);
    if (size < 0 || sha < 0) return false;
    if (this.#fieldCount[size] !== 1 || this.#fieldCount[sha] !== 1) return false;
    const sizeStart = this.#rangeStart[this.#fieldFirst[size]!]!;
    const sizeEnd = this.#rangeEnd[this.#fieldFirst[size]!]!;
    if (sizeEnd === sizeStart || sizeEnd - sizeStart > 15) return false;
    for (let i = sizeStart; i < sizeEnd; i++) if (!isDigit(buf[i]!)) return false;
    const shaStart = this.#rangeStart[this.#fieldFirst[sha]!]!;
    const shaEnd = this.#rangeEnd[this.#fieldFirst[sha]!]!;
    if (shaEnd - shaStart !== 64) return false;
    for (let i = shaStart; i < shaEnd; i++) if (!isHex(buf[i]!)) return false;
    return true;
  }

  #writeField(buf: Buffer, slot: number): void {
    const name = NAMES[this.#fieldName[slot]!]!;
    this.#append(name, 0, name.length);
    this.#append(COLON_SPACE, 0, 2);
    const first = this.#fieldFirst[slot]!;
    for (let r = first; r < first + this.#fieldCount[slot]!; r++) {
      if (r > first) this.#append(NEWLINE_SPACE, 0, 2);
      this.#append(buf, this.#rangeStart[r]!, this.#rangeEnd[r]!);
    }
    this.#append(NEWLINE_BYTES, 0, 1);
  }

  #append(from: Buffer, start: number, end: number): void {
    const length = end - start;
    if (this.#outBytes + length > this.#out.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.#out.length * 2, this.#outBytes + length));
      this.#out.copy(bigger, 0, 0, this.#outBytes);
      this.#out = bigger;
    }
    from.copy(this.#out, this.#outBytes, start, end);
    this.#outBytes += length;
  }

  async #flush(): Promise<void> {
    if (this.#outBytes === 0) return;
    const block = this.#out.subarray(0, this.#outBytes);
    this.#out = Buffer.allocUnsafe(OUTPUT_BLOCK);
    this.#outBytes = 0;
    await this.#sink(block);
  }
}

const NEWLINE_BYTES = Buffer.from('\n');
const NEWLINE_SPACE = Buffer.from('\n ');
const COLON_SPACE = Buffer.from(': ');

/** The index in {@link NAMES} of the field name `buf[start, end)` (any case), or -1. */
function keptName(buf: Buffer, start: number, end: number): number {
  for (const i of BY_LENGTH.get(end - start) ?? []) {
    const name = NAMES[i]!;
    let same = true;
    for (let k = 0; k < name.length && same; k++) same = (buf[start + k]! | 0x20) === name[k];
    if (same) return i;
  }
  return -1;
}

function isBlank(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

function isHex(byte: number): boolean {
  return isDigit(byte) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66);
}

function grow(array: Int32Array): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
