/**
 * An index of the regular files in a tar file on disk (name, offset, size), read header by
 * header without reading contents, so members can then be streamed by byte range.
 */
import { open } from 'node:fs/promises';

import { CopaError } from '../errors.js';

export interface TarMember {
  readonly name: string;
  /** Offset of the content in the tar file. */
  readonly offset: number;
  readonly sizeBytes: number;
}

const block = 512;

/** Returns the regular-file members of a tar file by normalised name (no `./`). */
export async function indexTarFile(path: string): Promise<Map<string, TarMember>> {
  const members = new Map<string, TarMember>();
  const file = await open(path, 'r');
  try {
    const header = Buffer.alloc(block);
    let position = 0;
    let longName: string | undefined;
    let paxPath: string | undefined;
    for (;;) {
      const { bytesRead } = await file.read(header, 0, block, position);
      if (bytesRead < block || header.every((b) => b === 0)) break;
      checkChecksum(header, path);
      const size = parseNumber(header.subarray(124, 136), path);
      const type = String.fromCharCode(header[156] ?? 0);
      const contentAt = position + block;
      position = contentAt + Math.ceil(size / block) * block;

      if (type === 'L' || type === 'x') {
        const body = Buffer.alloc(size);
        await file.read(body, 0, size, contentAt);
        if (type === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '');
        else paxPath = paxRecord(body, 'path') ?? paxPath;
        continue;
      }
      const name = paxPath ?? longName ?? ustarName(header);
      paxPath = longName = undefined;
      if (type === '0' || type === '\0' || type === '7') {
        const normalised = name.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
        members.set(normalised, { name: normalised, offset: contentAt, sizeBytes: size });
      }
    }
  } finally {
    await file.close();
  }
  return members;
}

function checkChecksum(header: Buffer, path: string): void {
  let sum = 0;
  for (let i = 0; i < block; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  if (parseInt(cString(header.subarray(148, 156)).trim(), 8) !== sum) {
    throw new CopaError('ARCHIVE_INVALID', `reading archive "${path}": not a tar file`);
  }
}

function ustarName(header: Buffer): string {
  const name = cString(header.subarray(0, 100));
  const magic = header.subarray(257, 262).toString('latin1');
  const prefix = magic === 'ustar' ? cString(header.subarray(345, 500)) : '';
  return prefix === '' ? name : `${prefix}/${name}`;
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString('utf8');
}

function parseNumber(field: Buffer, path: string): number {
  if ((field[0] ?? 0) & 0x80) {
    let value = 0;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    return value;
  }
  const text = cString(field).trim();
  const value = text === '' ? 0 : parseInt(text, 8);
  if (Number.isNaN(value)) {
    throw new CopaError('ARCHIVE_INVALID', `reading archive "${path}": not a tar file`);
  }
  return value;
}

function paxRecord(body: Buffer, key: string): string | undefined {
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space === -1) break;
    const length = parseInt(body.subarray(at, space).toString('latin1'), 10);
    if (!(length > 0)) break;
    const record = body.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === key) return record.slice(eq + 1);
    at += length;
  }
  return undefined;
}
