/**
 * A reader for the subset of apt's configuration syntax (`apt.conf(5)`) that copa uses: scopes
 * written as `A::B "v";` or nested `A { B "v"; };`, with `//`, `#` and `/* *\/` comments.
 * https://manpages.debian.org/bookworm/apt/apt.conf.5.en.html
 */

/**
 * Flattens apt.conf text into lower-case `a::b::c` keys and their last value. Lists (`a { "x";
 * "y"; }`) and `#include` directives are ignored.
 */
export function parseAptConf(text: string): Map<string, string> {
  const values = new Map<string, string>();
  const scopes: string[] = [];
  let key: string | undefined;
  for (const token of tokenize(text)) {
    if (token === '{') {
      if (key !== undefined) scopes.push(key);
      key = undefined;
    } else if (token === '}') {
      scopes.pop();
      key = undefined;
    } else if (token === ';') {
      key = undefined;
    } else if (token.startsWith('"')) {
      if (key !== undefined) values.set([...scopes, key].join('::').toLowerCase(), token.slice(1));
      key = undefined;
    } else {
      key = token;
    }
  }
  return values;
}

/** Splits text into names, `"strings` (opening quote kept as a marker), `{`, `}` and `;`. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const pattern = /\/\*[\s\S]*?\*\/|\/\/[^\n]*|#[^\n]*|"([^"]*)"|([{};])|([^\s{};"]+)/g;
  for (const m of text.matchAll(pattern)) {
    if (m[1] !== undefined) tokens.push(`"${m[1]}`);
    else if (m[2] !== undefined) tokens.push(m[2]);
    else if (m[3] !== undefined) tokens.push(m[3]);
  }
  return tokens;
}

/** What copa takes from the image's apt configuration. */
export interface AptConfSettings {
  readonly proxy?: { readonly http?: string; readonly https?: string };
  readonly checkValidUntil?: boolean;
}

/** Picks the proxy and `Check-Valid-Until` settings out of flattened apt.conf values. */
export function aptConfSettings(values: ReadonlyMap<string, string>): AptConfSettings {
  const proxyOf = (scheme: string) => {
    const v = values.get(`acquire::${scheme}::proxy`);
    return v === undefined || v === '' || v.toUpperCase() === 'DIRECT' ? undefined : v;
  };
  const http = proxyOf('http');
  const https = proxyOf('https');
  const valid = values.get('acquire::check-valid-until');
  return {
    ...((http !== undefined || https !== undefined) && {
      proxy: { ...(http && { http }), ...(https && { https }) },
    }),
    ...(valid !== undefined && { checkValidUntil: /^(yes|true|on|1)$/i.test(valid) }),
  };
}
