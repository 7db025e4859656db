import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatDuration, tryParseDuration } from './parse-duration.js';

describe('tryParseDuration()', () => {
  const valid: [string, number][] = [
    ['5m', 300_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['300ms', 300],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['2h45m30s', 9_930_000],
    ['1m0s', 60_000],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['2000000ns', 2],
    ['0', 0],
    ['0s', 0],
  ];
  for (const [text, ms] of valid) {
    it(`reads "${text}" as ${ms} ms`, () => assert.equal(tryParseDuration(text), ms));
  }

  const invalid = ['', '5', 'm', '5x', '5 m', '-5m', '+5m', '5m-', '1h 30m', 'abc', '5M', '.s'];
  for (const text of invalid) {
    it(`rejects "${text}"`, () => assert.equal(tryParseDuration(text), undefined));
  }
});

describe('formatDuration()', () => {
  const cases: [number, string][] = [
    [300_000, '5m0s'],
    [5_400_000, '1h30m0s'],
    [90_000, '1m30s'],
    [300, '300ms'],
    [1500, '1.5s'],
    [0, '0s'],
  ];
  for (const [ms, text] of cases) {
    it(`formats ${ms} ms as "${text}" as Go does`, () => assert.equal(formatDuration(ms), text));
  }
});
