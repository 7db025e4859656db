import assert from 'node:assert/strict';
import { it } from 'node:test';

import { formatBytes } from './format-bytes.js';

it('formatBytes() uses decimal units with one decimal', () => {
  const cases: [number, string][] = [
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 kB'],
    [12_345_678, '12.3 MB'],
    [999_999, '1.0 MB'],
    [3_200_000_000, '3.2 GB'],
  ];
  for (const [bytes, text] of cases) assert.equal(formatBytes(bytes), text, `${bytes}`);
});
