import { setFlagsFromString } from 'node:v8';

import { processIo } from './io.js';
import { run } from './run.js';

// A young generation that keeps its first size and an old generation allowed to double between
// collections lower the peak memory of a two-platform patch by about 50 MB for about the same CPU
// time (docs/performance.md). V8 reads both when it resizes the heap, so they apply from here on.
setFlagsFromString('--semi-space-growth-factor=1');
setFlagsFromString('--heap-growing-percent=100');

// The first Ctrl-C (or SIGTERM) cancels the run, which then cleans up and reports "cancelled";
// a second one quits at once.
const controller = new AbortController();
const onSignal = () => {
  if (!controller.signal.aborted) {
    controller.abort();
    return;
  }
  process.stderr.write('force quit\n');
  process.exit(1);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// A reader that goes away (`copa report x | head`) is not an error of copa's.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

const code = await run(process.argv.slice(2), { ...processIo(), signal: controller.signal });
process.exitCode = code;
if (code !== 0) {
  // A failed, cancelled or timed-out run may leave sockets or timers open: do not wait for them.
  setTimeout(() => process.exit(code), 1000).unref();
}
process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
