/** Runs the copa command line with `argv` (without the node and script names); returns the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  // TODO: the command line is not written yet; every command reports a usage error.
  process.stderr.write(`error: unknown command ${JSON.stringify(argv[0] ?? '')}\n`);
  return 2;
}
