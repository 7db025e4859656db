import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseChallenges } from './challenge.js';

const cases: [name: string, header: string, expected: ReturnType<typeof parseChallenges>][] = [
  ['basic', 'Basic realm="copa-test"', [{ scheme: 'basic', params: { realm: 'copa-test' } }]],
  [
    'bearer with scope',
    'Bearer realm="https://auth.example/token",service="reg.example",scope="repository:a/b:pull"',
    [
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example/token',
          service: 'reg.example',
          scope: 'repository:a/b:pull',
        },
      },
    ],
  ],
  [
    'two challenges, unquoted and escaped values',
    'Basic realm=plain, Bearer realm="a\\"b", error=insufficient_scope',
    [
      { scheme: 'basic', params: { realm: 'plain' } },
      { scheme: 'bearer', params: { realm: 'a"b', error: 'insufficient_scope' } },
    ],
  ],
  ['empty', '', []],
];

for (const [name, header, expected] of cases) {
  test(`parseChallenges() reads ${name}`, () => {
    assert.deepEqual(parseChallenges(header), expected);
  });
}
