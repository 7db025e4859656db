/**
 * deb822 control data as dpkg reads it: stanzas of `Name: value` fields, continuation lines
 * starting with a space or tab. Values are kept verbatim (continuation lines included) so that a
 * stanza written back is byte-identical.
 * https://www.debian.org/doc/debian-policy/ch-controlfields.html#syntax-of-control-files
 */

/** One field; `value` has the first line without its leading blanks, then `\n`-joined lines. */
export interface ControlField {
  readonly name: string;
  readonly value: string;
}

/** One stanza, fields in file order, plus the exact text it was parsed from. */
export interface Stanza {
  readonly fields: readonly ControlField[];
  readonly raw: string;
}

/** Returns the value of the field called `name` (case-insensitive), or `undefined`. */
export function fieldValue(stanza: Pick<Stanza, 'fields'>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return stanza.fields.find((f) => f.name.toLowerCase() === lower)?.value;
}

/**
 * Splits control text into stanzas. Blank lines (only blanks) separate stanzas; `#` comment
 * lines are skipped. Throws `SyntaxError` naming the line when a line is neither a field nor a
 * continuation.
 */
export function parseControl(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let fields: ControlField[] = [];
  let rawLines: string[] = [];
  let name: string | undefined;
  let lines: string[] = [];
  const flushField = (): void => {
    if (name !== undefined) fields.push({ name, value: lines.join('\n').replace(/[ \t]+$/, '') });
    name = undefined;
    lines = [];
  };
  const flushStanza = (): void => {
    flushField();
    if (fields.length > 0) stanzas.push({ fields, raw: rawLines.join('\n') + '\n' });
    fields = [];
    rawLines = [];
  };
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  for (const [index, line] of all.entries()) {
    if (/^[ \t]*$/.test(line)) {
      flushStanza();
      continue;
    }
    if (line.startsWith('#') && name === undefined && fields.length === 0) continue;
    rawLines.push(line);
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (name === undefined)
        throw new SyntaxError(`line ${index + 1}: continuation before any field`);
      lines.push(line);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SyntaxError(`line ${index + 1}: expected "Name: value"`);
    flushField();
    name = line.slice(0, colon);
    lines = [line.slice(colon + 1).replace(/^[ \t]+/, '')];
  }
  flushStanza();
  return stanzas;
}

/** Formats one field the way dpkg writes it (`Name: value`, or `Name:` before a line break). */
export function formatField(field: ControlField): string {
  const sep = field.value === '' || field.value.startsWith('\n') ? '' : ' ';
  return `${field.name}:${sep}${field.value}\n`;
}
