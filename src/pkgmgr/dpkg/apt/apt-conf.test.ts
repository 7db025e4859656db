import { test } from 'node:test';
import assert from 'node:assert/strict';

import { aptConfSettings, parseAptConf } from './apt-conf.js';

test('parseAptConf flattens scoped and nested settings and drops comments', () => {
  const text = [
    '// comment',
    'Acquire::http::Proxy "http://proxy.invalid:3128/";',
    '# another comment',
    'Acquire { https { Proxy "http://secure.invalid:3128"; }; Check-Valid-Until "false"; };',
    '/* block',
    '   comment */ APT::Get::Assume-Yes "true";',
  ].join('\n');
  const values = parseAptConf(text);
  assert.equal(values.get('acquire::http::proxy'), 'http://proxy.invalid:3128/');
  assert.equal(values.get('acquire::https::proxy'), 'http://secure.invalid:3128');
  assert.equal(values.get('acquire::check-valid-until'), 'false');
  assert.equal(values.get('apt::get::assume-yes'), 'true');
});

test('aptConfSettings picks proxies, treats DIRECT as none and reads Check-Valid-Until', () => {
  const settings = aptConfSettings(
    parseAptConf('Acquire::http::Proxy "DIRECT"; Acquire::https::Proxy "http://p.invalid";'),
  );
  assert.deepEqual(settings, { proxy: { https: 'http://p.invalid' } });
  assert.deepEqual(aptConfSettings(parseAptConf('Acquire::Check-Valid-Until "no";')), {
    checkValidUntil: false,
  });
  assert.deepEqual(aptConfSettings(new Map()), {});
});
