import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';

import { colorsFor } from './colors.js';
import type { OutputStream } from './io.js';
import {
  createProgressDisplay,
  fit,
  resolveDisplayMode,
  type DisplayMode,
} from './progress-display.js';

class Collector implements OutputStream {
  text = '';
  constructor(readonly isTTY = false) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

function display(mode: DisplayMode, options: { isTTY?: boolean; debug?: boolean } = {}) {
  const stream = new Collector(options.isTTY);
  const colors = colorsFor(stream, { NO_COLOR: '1' });
  const shown = createProgressDisplay({ mode, stream, colors, debug: options.debug === true });
  return { stream, shown };
}

describe('resolveDisplayMode()', () => {
  it('chooses bars for a terminal and lines otherwise when auto', () => {
    assert.equal(resolveDisplayMode('auto', new Collector(true)), 'tty');
    assert.equal(resolveDisplayMode('auto', new Collector(false)), 'plain');
  });

  it('keeps an explicit mode', () => {
    assert.equal(resolveDisplayMode('quiet', new Collector(true)), 'quiet');
    assert.equal(resolveDisplayMode('tty', new Collector(false)), 'tty');
  });
});

describe('createProgressDisplay()', () => {
  it('prints one line per finished or failed transfer in plain mode', () => {
    const { stream, shown } = display('plain');
    shown.start('a', 'pulling "sha256:aa"', 3000);
    shown.update('a', 3000);
    shown.start('b', 'pushing "sha256:bb"');
    shown.start('c', 'pushing "sha256:cc"');
    shown.done('b', 'skipped');
    shown.done('c', 'failed');
    shown.done('a', 'done');
    shown.stop();
    const lines = stream.text.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.equal(lines[0], 'pushing "sha256:cc": failed');
    assert.match(lines[1] as string, /^pulling "sha256:aa": done, 3\.0 kB in \d+\.\ds$/);
  });

  it('prints only the time of a phase that counted no bytes', () => {
    const { stream, shown } = display('plain');
    shown.start('p', 'linux/amd64: resolving and downloading packages');
    shown.done('p', 'done');
    assert.match(
      stream.text,
      /^linux\/amd64: resolving and downloading packages: done in \d+\.\ds\n$/,
    );
  });

  it('prints skipped transfers too with debug', () => {
    const { stream, shown } = display('plain', { debug: true });
    shown.start('b', 'pushing "sha256:bb"');
    shown.done('b', 'skipped');
    assert.equal(stream.text, 'pushing "sha256:bb": skipped\n');
  });

  it('ignores updates and ends of transfers it never saw', () => {
    const { stream, shown } = display('plain');
    shown.update('x', 10);
    shown.done('x', 'done');
    assert.equal(stream.text, '');
  });

  it('prints no progress in quiet mode but still writes lines', () => {
    const { stream, shown } = display('quiet');
    shown.start('a', 'pulling', 10);
    shown.update('a', 10);
    shown.done('a', 'done');
    shown.writeLine('a log line');
    assert.equal(stream.text, 'a log line\n');
  });

  it('draws bars, keeps log lines, and clears the bars when the last transfer ends', async () => {
    const { stream, shown } = display('tty', { isTTY: true });
    shown.start('a', 'linux/amd64: pulling "sha256:aa"', 1000);
    shown.start('b', 'linux/arm64: pulling "sha256:bb"');
    shown.update('a', 500);
    shown.update('b', 2500);
    shown.writeLine('resolved 3 packages');
    await sleep(250);
    shown.done('a', 'done');
    shown.done('b', 'done');
    shown.writeLine('after the bars');
    shown.stop();

    const text = stream.text;
    assert.match(text, / 50% 500 B \/ 1\.0 kB/);
    assert.match(text, /linux\/arm64: pulling "sha256:bb" +2\.5 kB/, 'size only without a total');
    assert.match(text, /resolved 3 packages/);
    assert.match(text, /linux\/amd64: pulling "sha256:aa": done, 500 B/);
    assert.ok(text.endsWith('after the bars\n'), 'lines go straight out once the bars are gone');
  });

  it('draws at most twelve bars and still reports every transfer', () => {
    const { stream, shown } = display('tty', { isTTY: true });
    for (let i = 0; i < 20; i++) shown.start(`t${i}`, `layer ${i}`, 100);
    for (let i = 0; i < 20; i++) shown.update(`t${i}`, 100);
    for (let i = 0; i < 20; i++) shown.done(`t${i}`, 'done');
    for (let i = 0; i < 20; i++) assert.match(stream.text, new RegExp(`layer ${i}: done`));
    assert.doesNotMatch(stream.text, /layer 12 +/, 'no bar for the thirteenth transfer');
  });

  it('prints the lines logged before stop even when no redraw came', () => {
    const { stream, shown } = display('tty', { isTTY: true });
    shown.start('a', 'pulling', 100);
    shown.writeLine('last words');
    shown.stop();
    assert.match(stream.text, /last words/);
  });
});

describe('fit()', () => {
  it('pads short labels', () => assert.equal(fit('abc', 6), 'abc   '));

  it('shortens long labels in the middle, keeping both ends', () => {
    const label = 'linux/arm64: pulling "sha256:0123456789abcdef"';
    const fitted = fit(label, 20);
    assert.equal(fitted.length, 20);
    assert.ok(fitted.startsWith('linux/arm6'));
    assert.ok(fitted.endsWith('abcdef"'));
    assert.ok(fitted.includes('…'));
  });
});
