import { processIo } from './io.js';
import { run } from './run.js';

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
