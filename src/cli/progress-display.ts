import cliProgress from 'cli-progress';

import type { ProgressReporter, ProgressStatus } from '../progress.js';
import type { Colors } from './colors.js';
import { formatBytes } from './format-bytes.js';
import type { OutputStream } from './io.js';
import type { ProgressMode } from './options.js';

/** How progress is actually shown, once `auto` is decided. */
export type DisplayMode = Exclude<ProgressMode, 'auto'>;

/**
 * Shows transfer progress on stderr and carries every other stderr line, so log lines and bars
 * do not overwrite each other. `stop` must be called when the command ends.
 */
export interface ProgressDisplay extends ProgressReporter {
  /** Writes one line (without its newline) above the bars. */
  writeLine(line: string): void;
  /** Removes the bars and prints what is still buffered; later calls are ignored. */
  stop(): void;
}

/** Options of {@link createProgressDisplay}. */
export interface ProgressDisplayOptions {
  readonly mode: DisplayMode;
  readonly stream: OutputStream;
  readonly colors: Colors;
  /** Also print a line for skipped transfers (blobs that already exist). */
  readonly debug?: boolean;
}

/** The most bars drawn at once. */
const maxBars = 12;

interface Transfer {
  readonly label: string;
  readonly startedMs: number;
  bytes: number;
  bar?: cliProgress.SingleBar;
}

/** `tty` when `mode` is `auto` and `stream` is a terminal, `plain` for `auto` otherwise. */
export function resolveDisplayMode(mode: ProgressMode, stream: OutputStream): DisplayMode {
  if (mode !== 'auto') return mode;
  return stream.isTTY === true ? 'tty' : 'plain';
}

/**
 * Creates the display for `mode`: `tty` draws one bar per running transfer (cli-progress) and a
 * line when each ends, `plain` prints only that line, `quiet` prints no progress at all.
 */
export function createProgressDisplay(options: ProgressDisplayOptions): ProgressDisplay {
  return closable(openDisplay(options));
}

function openDisplay(options: ProgressDisplayOptions): ProgressDisplay {
  if (options.mode === 'tty') return new BarDisplay(options);
  if (options.mode === 'plain') return new LineDisplay(options);
  const write = (line: string) => void options.stream.write(`${line}\n`);
  return { start() {}, update() {}, done() {}, writeLine: write, stop() {} };
}

/**
 * Ignores every call after `stop`: an engine that goes on after a timeout or cancellation must
 * not print below the final error of the command.
 */
function closable(display: ProgressDisplay): ProgressDisplay {
  let stopped = false;
  return {
    start: (id, label, totalBytes) => {
      if (!stopped) display.start(id, label, totalBytes);
    },
    update: (id, bytes) => {
      if (!stopped) display.update(id, bytes);
    },
    done: (id, status) => {
      if (!stopped) display.done(id, status);
    },
    writeLine: (line) => {
      if (!stopped) display.writeLine(line);
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      display.stop();
    },
  };
}

/** One line per finished transfer; nothing while it runs. */
class LineDisplay implements ProgressDisplay {
  protected readonly transfers = new Map<string, Transfer>();

  constructor(protected readonly options: ProgressDisplayOptions) {}

  start(id: string, label: string): void {
    this.transfers.set(id, { label, startedMs: Date.now(), bytes: 0 });
  }

  update(id: string, bytes: number): void {
    const transfer = this.transfers.get(id);
    if (transfer !== undefined) transfer.bytes += bytes;
  }

  done(id: string, status: ProgressStatus): void {
    const transfer = this.transfers.get(id);
    if (transfer === undefined) return;
    this.transfers.delete(id);
    if (status !== 'skipped' || this.options.debug === true) {
      this.writeLine(this.summaryLine(transfer, status));
    }
  }

  writeLine(line: string): void {
    this.options.stream.write(`${line}\n`);
  }

  stop(): void {}

  private summaryLine(transfer: Transfer, status: ProgressStatus): string {
    const { colors } = this.options;
    if (status === 'skipped') return `${transfer.label}: ${colors.dim('skipped')}`;
    if (status === 'failed') return `${transfer.label}: ${colors.red('failed')}`;
    const seconds = ((Date.now() - transfer.startedMs) / 1000).toFixed(1);
    // A phase that moved no bytes it could count (resolving packages, say) shows only its time.
    if (transfer.bytes === 0) return `${transfer.label}: done in ${seconds}s`;
    return `${transfer.label}: done, ${formatBytes(transfer.bytes)} in ${seconds}s`;
  }
}

/** A bar per running transfer, redrawn ten times a second, above a line per finished one. */
class BarDisplay extends LineDisplay {
  private bars: cliProgress.MultiBar | undefined;

  override start(id: string, label: string, totalBytes?: number): void {
    super.start(id, label);
    const transfer = this.transfers.get(id) as Transfer;
    // Past a screenful, a transfer gets only its final line, so the bars never scroll.
    if (this.barCount() >= maxBars) return;
    transfer.bar = this.multiBar().create(totalBytes ?? 0, 0, { label });
  }

  override update(id: string, bytes: number): void {
    super.update(id, bytes);
    const transfer = this.transfers.get(id);
    transfer?.bar?.update(transfer.bytes);
  }

  override done(id: string, status: ProgressStatus): void {
    const bar = this.transfers.get(id)?.bar;
    if (bar !== undefined) this.bars?.remove(bar);
    super.done(id, status);
    if (this.transfers.size === 0) this.stop();
  }

  override writeLine(line: string): void {
    if (this.bars === undefined) super.writeLine(line);
    else this.bars.log(`${line}\n`);
  }

  override stop(): void {
    const bars = this.bars;
    if (bars === undefined) return;
    this.bars = undefined;
    // A redraw flushes the lines logged since the last one; stop alone would drop them.
    bars.update();
    bars.stop();
  }

  private barCount(): number {
    return [...this.transfers.values()].filter((t) => t.bar !== undefined).length;
  }

  private multiBar(): cliProgress.MultiBar {
    this.bars ??= new cliProgress.MultiBar({
      stream: terminalStream(this.options.stream) as NodeJS.WritableStream,
      format: (_options, params, payload) => this.renderBar(params, payload as { label: string }),
      clearOnComplete: true,
      hideCursor: true,
      fps: 10,
    });
    return this.bars;
  }

  private renderBar(params: cliProgress.Params, payload: { label: string }): string {
    const columns = this.options.stream.columns ?? 80;
    const labelWidth = Math.max(10, Math.min(48, columns - 40));
    const label = fit(payload.label, labelWidth);
    if (params.total <= 0) return `${label} ${formatBytes(params.value)}`;

    const width = 20;
    const filled = Math.min(width, Math.round(params.progress * width));
    const bar = '█'.repeat(filled) + this.options.colors.dim('░'.repeat(width - filled));
    const percent = `${Math.floor(params.progress * 100)}%`.padStart(4);
    return `${label} ${bar} ${percent} ${formatBytes(params.value)} / ${formatBytes(params.total)}`;
  }
}

/** Pads or shortens `text` to `width` characters, keeping both ends (platform and digest). */
export function fit(text: string, width: number): string {
  if (text.length <= width) return text.padEnd(width);
  const head = Math.ceil((width - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`;
}

/** The stream as cli-progress sees it: a terminal even when forced with `--progress tty`. */
function terminalStream(stream: OutputStream): OutputStream {
  if (stream.isTTY === true) return stream;
  return { write: (chunk: string) => stream.write(chunk), isTTY: true, columns: stream.columns };
}
