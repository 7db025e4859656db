/**
 * A deterministic ustar header encoder with PAX extended headers for what ustar cannot hold
 * (long or non-ASCII names, ids past 2097151, sizes past 8 GiB, long user names, xattrs as
 * `SCHILY.xattr.*`). No atime or ctime records are written.
 *
 * See https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_03
 *
 * Our own encoder rather than tar-stream's packer, which turns mode 0 into 0644 and writes PAX
 * values as UTF-8 text, corrupting binary xattrs such as `security.capability`.
 */

export const blockSize = 512;

export type TarType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

const typeFlags: Readonly<Record<TarType, string>> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  directory: '5',
  fifo: '6',
};

export interface TarHeader {
  /** Path without leading `/`; directories get their trailing `/` here. */
  name: string;
  type: TarType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  uname?: string;
  gname?: string;
  devMajor?: number;
  devMinor?: number;
  xattrs?: Record<string, Uint8Array>;
}

const maxOctal7 = 0o7777777;
const maxOctal11 = 0o77777777777;

/** Encodes one entry's header blocks: an optional PAX header with its records, then ustar. */
export function encodeTarHeader(header: TarHeader): Buffer {
  const name = header.type === 'directory' ? `${header.name}/` : header.name;
  const records: [string, Uint8Array][] = [];
  const split = splitName(name);
  if (split === undefined) records.push(['path', Buffer.from(name)]);
  const link = header.linkname ?? '';
  if (!fitsAscii(link, 100)) records.push(['linkpath', Buffer.from(link)]);
  if (header.uid > maxOctal7) records.push(['uid', Buffer.from(String(header.uid))]);
  if (header.gid > maxOctal7) records.push(['gid', Buffer.from(String(header.gid))]);
  if (header.size > maxOctal11) records.push(['size', Buffer.from(String(header.size))]);
  if (header.uname && !fitsAscii(header.uname, 32)) {
    records.push(['uname', Buffer.from(header.uname)]);
  }
  if (header.gname && !fitsAscii(header.gname, 32)) {
    records.push(['gname', Buffer.from(header.gname)]);
  }
  for (const key of Object.keys(header.xattrs ?? {}).sort()) {
    records.push([`SCHILY.xattr.${key}`, (header.xattrs as Record<string, Uint8Array>)[key]!]);
  }

  const ustar = encodeUstar(header, split ?? fallbackName(name));
  if (records.length === 0) return ustar;
  const pax = encodePaxRecords(records);
  const paxHeader = encodeUstar(
    {
      name: '',
      type: 'file',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: pax.byteLength,
      mtime: header.mtime,
    },
    fallbackName(`PaxHeaders.0/${basename(name)}`),
    'x',
  );
  return Buffer.concat([paxHeader, pax, Buffer.alloc(paddingFor(pax.byteLength)), ustar]);
}

/** Returns the zero bytes that pad content of `size` bytes to a whole block. */
export function paddingFor(size: number): number {
  return (blockSize - (size % blockSize)) % blockSize;
}

/** The two zero blocks that end an archive. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(blockSize * 2);
}

function encodePaxRecords(records: readonly [string, Uint8Array][]): Buffer {
  const parts = records.map(([key, value]) => {
    const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
    // The length prefix counts itself, so grow it until it is consistent.
    let length = body.byteLength + 1;
    while (String(length).length + body.byteLength !== length) length++;
    return Buffer.concat([Buffer.from(String(length)), body]);
  });
  return Buffer.concat(parts);
}

interface SplitName {
  prefix: string;
  name: string;
}

function splitName(name: string): SplitName | undefined {
  if (!fitsAscii(name, Number.MAX_SAFE_INTEGER)) return undefined;
  if (name.length <= 100) return { prefix: '', name };
  const searchFrom = Math.min(name.length - 1, 155);
  for (let i = name.lastIndexOf('/', searchFrom); i > 0; i = name.lastIndexOf('/', i - 1)) {
    const rest = name.slice(i + 1);
    if (rest.length > 100) return undefined;
    if (i <= 155 && rest.length > 0) return { prefix: name.slice(0, i), name: rest };
  }
  return undefined;
}

/** A name for the ustar field when the PAX `path` record carries the real one. */
function fallbackName(name: string): SplitName {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_');
  return { prefix: '', name: ascii.slice(0, 100) };
}

function basename(name: string): string {
  const trimmed = name.endsWith('/') ? name.slice(0, -1) : name;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function fitsAscii(text: string, maxBytes: number): boolean {
  if (text.length > maxBytes) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0 || code > 0x7f) return false;
  }
  return true;
}

function encodeUstar(header: TarHeader, name: SplitName, flag?: string): Buffer {
  const buf = Buffer.alloc(blockSize);
  buf.write(name.name, 0, 100, 'ascii');
  writeOctal(buf, 100, 8, header.mode & 0o7777);
  writeOctal(buf, 108, 8, header.uid > maxOctal7 ? 0 : header.uid);
  writeOctal(buf, 116, 8, header.gid > maxOctal7 ? 0 : header.gid);
  writeOctal(buf, 124, 12, header.size > maxOctal11 ? 0 : header.size);
  writeOctal(buf, 136, 12, Math.max(0, Math.min(header.mtime, maxOctal11)));
  buf.fill(' ', 148, 156);
  buf.write(flag ?? typeFlags[header.type], 156, 1, 'ascii');
  const link = header.linkname ?? '';
  if (fitsAscii(link, 100)) buf.write(link, 157, 100, 'ascii');
  buf.write('ustar\u000000', 257, 8, 'ascii');
  writeName(buf, 265, header.uname);
  writeName(buf, 297, header.gname);
  writeOctal(buf, 329, 8, header.devMajor ?? 0);
  writeOctal(buf, 337, 8, header.devMinor ?? 0);
  buf.write(name.prefix, 345, 155, 'ascii');

  let checksum = 0;
  for (const byte of buf) checksum += byte;
  buf.write(`${checksum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return buf;
}

function writeName(buf: Buffer, offset: number, value: string | undefined): void {
  if (value && fitsAscii(value, 32)) buf.write(value, offset, 32, 'ascii');
}

function writeOctal(buf: Buffer, offset: number, width: number, value: number): void {
  buf.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'ascii');
}
