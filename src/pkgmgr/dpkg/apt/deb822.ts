/**
 * The deb822 control-file syntax of sources and Release files: paragraphs of `Field: value`
 * lines separated by blank lines, continuation lines starting with a space or tab, `#` comments.
 * https://manpages.debian.org/bookworm/dpkg-dev/deb822.5.en.html
 */

/** One paragraph; field names keep their spelling, lookups should use {@link fieldOf}. */
export interface Deb822Paragraph {
  /** Field values by lower-case name; continuation lines joined with `\n`. */
  readonly fields: ReadonlyMap<string, string>;
  /** 1-based line of the paragraph's first field, for messages. */
  readonly line: number;
}

/** Splits text into paragraphs. Comment lines are dropped wherever they appear. */
export function parseDeb822(text: string): Deb822Paragraph[] {
  const paragraphs: Deb822Paragraph[] = [];
  let fields = new Map<string, string>();
  let current: string | undefined;
  let start = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('#')) continue;
    if (line.trim() === '') {
      if (fields.size > 0) paragraphs.push({ fields, line: start });
      fields = new Map();
      current = undefined;
      continue;
    }
    if ((line.startsWith(' ') || line.startsWith('\t')) && current !== undefined) {
      fields.set(current, `${fields.get(current) ?? ''}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    if (fields.size === 0) start = i + 1;
    current = line.slice(0, colon).trim().toLowerCase();
    fields.set(current, line.slice(colon + 1).trim());
  }
  if (fields.size > 0) paragraphs.push({ fields, line: start });
  return paragraphs;
}

/** The value of a field by case-insensitive name. */
export function fieldOf(paragraph: Deb822Paragraph, name: string): string | undefined {
  return paragraph.fields.get(name.toLowerCase());
}

/** Splits a whitespace-separated list field (`Suites: a b`), empty when absent. */
export function listOf(paragraph: Deb822Paragraph, name: string): string[] {
  return (fieldOf(paragraph, name) ?? '').split(/\s+/).filter(Boolean);
}
