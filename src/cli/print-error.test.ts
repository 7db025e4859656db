import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CopaError, wrapError } from '../errors.js';
import { colorsFor } from './colors.js';
import { describeError, printError } from './print-error.js';

function printed(err: unknown, debug = false): string[] {
  let text = '';
  const stderr = { write: (chunk: string) => (text += chunk) };
  printError(err, { stderr, debug, colors: colorsFor(stderr, { NO_COLOR: '1' }) });
  return text.trimEnd().split('\n');
}

describe('describeError()', () => {
  it('does not repeat the text of a wrapped cause', () => {
    const inner = new CopaError('REGISTRY_NOT_FOUND', 'reading "a:1": manifest unknown');
    const outer = wrapError('patching "a:1"', inner);
    assert.equal(describeError(outer), 'patching "a:1": reading "a:1": manifest unknown');
  });

  it('appends causes whose text is not in the message', () => {
    const err = new Error('writing layer', { cause: new Error('ENOSPC: no space left on device') });
    assert.equal(describeError(err), 'writing layer: ENOSPC: no space left on device');
  });

  it('describes thrown values that are not errors', () => {
    assert.equal(describeError('plain text'), 'plain text');
    assert.equal(describeError(undefined), 'undefined');
  });

  it('ends on a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    assert.equal(describeError(a), 'a: b');
  });
});

describe('printError()', () => {
  it('prints error and hint lines only', () => {
    const err = new CopaError('OS_UNSUPPORTED', 'reading report "r.json": os "plan9" is unknown', {
      hint: 'Patch a Debian or Ubuntu image.',
    });
    assert.deepEqual(printed(err), [
      'error: reading report "r.json": os "plan9" is unknown',
      'hint: Patch a Debian or Ubuntu image.',
    ]);
  });

  it('prints no hint line when there is none', () => {
    assert.deepEqual(printed(new CopaError('DIGEST_MISMATCH', 'reading "x": digest differs')), [
      'error: reading "x": digest differs',
    ]);
  });

  it('adds the stacks of the error and its cause with debug', () => {
    const err = new CopaError('PATCH_FAILED', 'patching', { cause: new Error('inner') });
    const lines = printed(err, true);
    assert.ok(lines.some((l) => l.startsWith('CopaError: patching')));
    assert.ok(lines.some((l) => l === 'caused by: Error: inner'));
  });

  it('treats a thrown string as an internal error', () => {
    const [first, hint] = printed('boom');
    assert.equal(first, 'error: internal error: boom');
    assert.match(hint as string, /open an issue/);
  });
});
