/**
 * apt's two sources formats, as `sources.list(5)` of apt 2.6 describes them: one-line entries
 * (`deb [opts] uri suite comp...`) and deb822 `.sources` paragraphs.
 * https://manpages.debian.org/bookworm/apt/sources.list.5.en.html
 */
import { CopaError } from '../../../errors.js';
import { fieldOf, listOf, parseDeb822 } from './deb822.js';

/** A `Signed-By` value before key files are read. */
export type SignedByRef =
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'inline'; readonly armored: string }
  | { readonly kind: 'fingerprint'; readonly fingerprint: string };

/** One `deb` source for one suite, as written in the file. */
export interface SourceEntry {
  readonly uri: string;
  readonly suite: string;
  readonly components: readonly string[];
  readonly architectures?: readonly string[];
  readonly signedBy?: readonly SignedByRef[];
  readonly checkValidUntil?: boolean;
  readonly from: string;
}

/** Parses one-line `sources.list` text; `deb-src` lines and comments are skipped. */
export function parseSourcesList(text: string, file: string): SourceEntry[] {
  const entries: SourceEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/#.*$/, '').trim();
    if (line === '') continue;
    const from = `${file}:${i + 1}`;
    const { type, options, words } = splitLine(line, from);
    if (type === 'deb-src') continue;
    if (type !== 'deb') throw invalid(from, `unknown type "${type}"`);
    const [uri, suite, ...components] = words;
    if (uri === undefined || suite === undefined) throw invalid(from, 'missing URI or suite');
    entries.push(makeEntry({ uri, suite, components, from, options: readOptions(options) }));
  }
  return entries;
}

function splitLine(
  line: string,
  from: string,
): { type: string; options: Map<string, string>; words: string[] } {
  const m = /^(\S+)\s*(?:\[([^\]]*)\])?\s*(.*)$/.exec(line);
  if (m === null) throw invalid(from, `cannot read "${line}"`);
  const options = new Map<string, string>();
  for (const opt of (m[2] ?? '').trim().split(/\s+/).filter(Boolean)) {
    const eq = opt.indexOf('=');
    if (eq <= 0) throw invalid(from, `option "${opt}" has no value`);
    options.set(opt.slice(0, eq).toLowerCase(), opt.slice(eq + 1));
  }
  return { type: m[1] ?? '', options, words: (m[3] ?? '').split(/\s+/).filter(Boolean) };
}

interface EntryOptions {
  readonly architectures?: readonly string[];
  readonly signedBy?: readonly SignedByRef[];
  readonly checkValidUntil?: boolean;
}

function readOptions(options: Map<string, string>): EntryOptions {
  const arch = options.get('arch');
  const signedBy = options.get('signed-by');
  const valid = options.get('check-valid-until');
  return {
    architectures: arch === undefined ? undefined : arch.split(',').filter(Boolean),
    signedBy: signedBy === undefined ? undefined : parseSignedBy(signedBy),
    checkValidUntil: valid === undefined ? undefined : yes(valid),
  };
}

/** Parses deb822 `.sources` text; paragraphs without `deb` or with `Enabled: no` are skipped. */
export function parseDeb822Sources(text: string, file: string): SourceEntry[] {
  const entries: SourceEntry[] = [];
  for (const p of parseDeb822(text)) {
    const from = `${file}:${p.line}`;
    const types = listOf(p, 'Types');
    if (types.length === 0) throw invalid(from, 'missing "Types"');
    const enabled = fieldOf(p, 'Enabled');
    if (!types.includes('deb') || (enabled !== undefined && !yes(enabled))) continue;
    const uris = listOf(p, 'URIs');
    const suites = listOf(p, 'Suites');
    if (uris.length === 0 || suites.length === 0) throw invalid(from, 'missing "URIs" or "Suites"');
    const signedBy = fieldOf(p, 'Signed-By');
    const valid = fieldOf(p, 'Check-Valid-Until');
    const arch = listOf(p, 'Architectures');
    const options: EntryOptions = {
      architectures: arch.length > 0 ? arch : undefined,
      signedBy: signedBy === undefined ? undefined : parseSignedBy(signedBy),
      checkValidUntil: valid === undefined ? undefined : yes(valid),
    };
    const components = listOf(p, 'Components');
    for (const uri of uris) {
      for (const suite of suites) {
        entries.push(makeEntry({ uri, suite, components, from, options }));
      }
    }
  }
  return entries;
}

function makeEntry(input: {
  uri: string;
  suite: string;
  components: readonly string[];
  from: string;
  options: EntryOptions;
}): SourceEntry {
  const { uri, suite, components, from, options } = input;
  if (suite.endsWith('/') && components.length > 0) {
    throw invalid(from, `flat repository suite "${suite}" cannot have components`);
  }
  if (!suite.endsWith('/') && components.length === 0) {
    throw invalid(from, `suite "${suite}" has no components`);
  }
  // TODO: `$(ARCH)` in URIs and suites is not expanded; such entries fetch a wrong path and fail.
  return {
    uri: uri.replace(/\/+$/, ''),
    suite,
    components,
    ...(options.architectures && { architectures: options.architectures }),
    ...(options.signedBy && { signedBy: options.signedBy }),
    ...(options.checkValidUntil !== undefined && { checkValidUntil: options.checkValidUntil }),
    from,
  };
}

/**
 * Reads a `Signed-By` value: an inline armored key block (deb822 only, blank lines written as
 * `.`), or key file paths and fingerprints separated by commas or spaces.
 */
export function parseSignedBy(value: string): SignedByRef[] {
  const text = value.trim();
  if (text.startsWith('-----BEGIN')) {
    const armored = text
      .split('\n')
      .map((l) => (l.trim() === '.' ? '' : l.trim()))
      .join('\n');
    return [{ kind: 'inline', armored: `${armored}\n` }];
  }
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((item) =>
      /^[0-9A-Fa-f]{40}!?$/.test(item)
        ? { kind: 'fingerprint', fingerprint: item.replace('!', '').toUpperCase() }
        : { kind: 'path', path: item },
    );
}

function yes(value: string): boolean {
  return /^(yes|true|on|1)$/i.test(value.trim());
}

function invalid(from: string, reason: string): CopaError {
  return new CopaError('REPOSITORY_CONFIG_INVALID', `reading apt sources "${from}": ${reason}`, {
    hint: 'Fix the entry in the image, or replace the sources with --mirror and --security-mirror.',
  });
}
