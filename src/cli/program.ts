import { Command, Option } from '@commander-js/extra-typings';

import type { CliIo } from './io.js';
import type { ReportFormat, RunReportCommandOptions } from './commands/report.js';
import { patchDefaults, usageError, type PatchFlags } from './resolve-patch-options.js';
import { copaVersion } from './version.js';

/** What the commands do once their flags are read; each returns the exit code. */
export interface CommandHandlers {
  patch(flags: PatchFlags): Promise<number>;
  report(path: string, options: RunReportCommandOptions): Promise<number>;
}

/** A program together with the exit code its action set, once `parseAsync` has run. */
export interface Program {
  readonly command: Command;
  exitCode(): number | undefined;
}

/**
 * Builds the `copa` command tree. Commander only splits the words here: values are checked by the
 * handlers, errors are thrown (never printed or exited on), and help goes to `io.stdout`.
 */
export function createProgram(io: CliIo, handlers: CommandHandlers): Program {
  let code: number | undefined;
  const program = new Command('copa')
    .description(
      'Patch OS-package vulnerabilities in container images from scanner reports, ' +
        'without rebuilding them',
    )
    .version(`copa version ${copaVersion()}`, '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print help for the command')
    .option('--debug', 'log details, print error stacks and keep the working folder')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      getOutHelpWidth: () => io.stdout.columns ?? 80,
      getErrHelpWidth: () => io.stderr.columns ?? 80,
      outputError: () => {},
    });
  program.helpCommand('help [command]', 'print help for a command');

  const patch = addPatchOptions(program.command('patch'));
  patch.action(async (flags) => {
    code = await handlers.patch({ ...flags, debug: program.opts().debug === true });
  });

  program
    .command('report')
    .description('print the packages a scanner report asks to update, as copa reads them')
    .argument('<path>', 'report file, or a directory of reports (one per platform)')
    .option('-s, --scanner <name>', scannerHelp, patchDefaults.scanner)
    .option('-f, --format <format>', 'output: table, or json (update manifest)', 'table')
    .action(async (path, flags) => {
      const debug = program.opts().debug === true;
      // The command checks the format itself and names the accepted values.
      const format = flags.format as ReportFormat;
      code = await handlers.report(path, { scanner: flags.scanner, format, debug });
    });

  program
    .command('generate', { hidden: true })
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      throw usageError(
        'running "copa generate": not supported by copa yet',
        'Run "copa patch" and build on the patched image.',
      );
    });

  return { command: program, exitCode: () => code };
}

function addPatchOptions(command: Command) {
  return command
    .description('patch the OS packages of an image and write one new layer per platform')
    .option(
      '-i, --image <image>',
      'image to patch: a registry reference (tag or digest) or oci:DIR[:TAG]',
    )
    .option('-r, --report <path>', 'scanner report file, or a directory of reports per platform')
    .option('-t, --tag <tag>', 'tag of the patched image; a full reference (repo:tag) retags it')
    .option(
      '--tag-suffix <suffix>',
      'suffix of the patched tag when no --tag',
      patchDefaults.tagSuffix,
    )
    .option('-p, --push', 'push the result to the registry (else it is written to --oci-dir)')
    .option('--ignore-errors', 'go on past invalid versions and failed platforms')
    .addOption(
      new Option('--platform <platforms>', 'platform to patch, os/arch[/variant]; repeat or list')
        .argParser(collect)
        .default([] as string[], 'every platform of the image'),
    )
    .option('-s, --scanner <name>', scannerHelp, patchDefaults.scanner)
    .option('-f, --format <format>', 'VEX document format: openvex', patchDefaults.format)
    .option('-o, --output <file>', 'write a VEX document of the fixed vulnerabilities to this file')
    .option(
      '--timeout <duration>',
      'time limit for the whole run, like 90s, 5m, 1h30m',
      patchDefaults.timeout,
    )
    .option('-w, --working-folder <dir>', 'folder for temporary files (default: system temp)')
    .option(
      '-l, --loader <loader>',
      'engine to load the result into without --push: docker or podman',
    )
    .option('--oci-dir <dir>', 'OCI layout the result goes to without --push (default: ./copa-oci)')
    .option(
      '--progress <mode>',
      'progress display: auto, plain, tty, quiet',
      patchDefaults.progress,
    )
    .option('--compression <type>', 'new layers: gzip (default), zstd, uncompressed')
    .option('--force-compression', 'accepted for compatibility, not applied')
    .option('--mirror <url>', "archive URL replacing the image's main Debian or Ubuntu archive")
    .option('--security-mirror <url>', "archive URL replacing the image's security archive")
    .addOption(
      new Option(
        '--extra-suite <suite>',
        'another source: a suite of the main archive, or a whole "deb URI suite comp..." line; repeat',
      )
        .argParser(collect)
        .default([] as string[], 'none'),
    )
    .addOption(
      new Option('--keyring <file>', 'OpenPGP keyring trusted for every source; repeat')
        .argParser(collect)
        .default([] as string[], 'none'),
    )
    .addOption(new Option('--config <file>', 'bulk patching (not supported yet)').hideHelp())
    .addOption(new Option('--exit-on-eol').hideHelp())
    .addOption(new Option('--eol-api-url <url>').hideHelp())
    .addOption(new Option('-a, --addr <address>').hideHelp())
    .addOption(new Option('--cacert <file>').hideHelp())
    .addOption(new Option('--cert <file>').hideHelp())
    .addOption(new Option('--key <file>').hideHelp())
    .addOption(new Option('--pkg-types <types>').hideHelp())
    .addOption(new Option('--library-patch-level <level>').hideHelp())
    .addOption(new Option('--toolchain-patch-level [level]').hideHelp())
    .addOption(new Option('--go-vcs-url <url>').hideHelp());
}

const scannerHelp = 'report format: trivy, grype, native, or a plugin name (copa-<name>)';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
