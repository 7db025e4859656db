import { test } from 'node:test';
import assert from 'node:assert/strict';

import { isCopaError } from '../../../errors.js';
import {
  formatRelations,
  parseRelations,
  parseSourceField,
  satisfiesVersion,
  tryParseRelations,
} from './relations.js';

const cases: { name: string; text: string; want: unknown }[] = [
  { name: 'empty field', text: '  ', want: [] },
  { name: 'plain name', text: 'libc6', want: [[{ name: 'libc6' }]] },
  {
    name: 'version and alternatives',
    text: 'libc6 (>= 2.34), default-mta | mail-transport-agent',
    want: [
      [{ name: 'libc6', version: { operator: '>=', version: '2.34' } }],
      [{ name: 'default-mta' }, { name: 'mail-transport-agent' }],
    ],
  },
  {
    name: 'arch qualifiers',
    text: 'perl:any, python3:native (>= 3.11~)',
    want: [
      [{ name: 'perl', archQualifier: 'any' }],
      [
        {
          name: 'python3',
          archQualifier: 'native',
          version: { operator: '>=', version: '3.11~' },
        },
      ],
    ],
  },
  {
    name: 'obsolete operators and no spaces',
    text: 'a (<1.0), b(>2:1.0-1), c (=1)',
    want: [
      [{ name: 'a', version: { operator: '<=', version: '1.0' } }],
      [{ name: 'b', version: { operator: '>=', version: '2:1.0-1' } }],
      [{ name: 'c', version: { operator: '=', version: '1' } }],
    ],
  },
  {
    name: 'strict operators',
    text: 'a (<< 2), b (>> 1)',
    want: [
      [{ name: 'a', version: { operator: '<<', version: '2' } }],
      [{ name: 'b', version: { operator: '>>', version: '1' } }],
    ],
  },
  {
    name: 'arch restrictions and build profiles',
    text: 'libseccomp-dev [amd64 !i386] <!nocheck> <stage1 cross>',
    want: [
      [
        {
          name: 'libseccomp-dev',
          architectures: ['amd64', '!i386'],
          profiles: [['!nocheck'], ['stage1', 'cross']],
        },
      ],
    ],
  },
  {
    name: 'multi-line field with trailing comma',
    text: 'a,\n b (>= 1),\n',
    want: [[{ name: 'a' }], [{ name: 'b', version: { operator: '>=', version: '1' } }]],
  },
];

test('parseRelations reads each kind of relation', () => {
  for (const c of cases) assert.deepEqual(parseRelations(c.text), c.want, c.name);
});

test('parseRelations throws PACKAGE_INVALID when the text is malformed', () => {
  for (const bad of ['a (>= )', 'a (~ 1)', '(>= 1)', 'a [amd64', 'a b', 'a:', 'a | ']) {
    assert.throws(
      () => parseRelations(bad),
      (e) => isCopaError(e, 'PACKAGE_INVALID'),
      bad,
    );
    assert.equal(tryParseRelations(bad), undefined, bad);
  }
});

test('formatRelations writes the canonical form back', () => {
  const text = 'a (>= 1) | b:any, c [amd64] <!nocheck>';
  assert.equal(formatRelations(parseRelations(text)), text);
});

test('satisfiesVersion applies each operator with Debian ordering', () => {
  const rows: [string, string, boolean][] = [
    ['1.0-1', 'a (>= 1.0)', true],
    ['1.0~rc1', 'a (>= 1.0)', false],
    ['1.0', 'a (<< 1.0)', false],
    ['0.9', 'a (<< 1.0)', true],
    ['1.0', 'a (<= 1.0)', true],
    ['1:0.1', 'a (>> 2.0)', true],
    ['1.0-0', 'a (= 1.0)', true],
    ['5', 'a', true],
  ];
  for (const [version, rel, want] of rows) {
    const [group] = parseRelations(rel);
    assert.equal(satisfiesVersion(version, group![0]!), want, `${version} ${rel}`);
  }
});

test('parseSourceField defaults to the binary name and version', () => {
  const bin = { name: 'libssl3', version: '3.0.15-1~deb12u1' };
  assert.deepEqual(parseSourceField(undefined, bin), bin);
  assert.deepEqual(parseSourceField('openssl', bin), { name: 'openssl', version: bin.version });
  assert.deepEqual(parseSourceField('glibc (2.36-9)', bin), { name: 'glibc', version: '2.36-9' });
});
