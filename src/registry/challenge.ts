/** One challenge of a `WWW-Authenticate` header (RFC 7235), scheme in lower case. */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parses a `WWW-Authenticate` header such as
 * `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"`.
 * Parameters of several challenges in one header are told apart by their scheme tokens.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  const token = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/y;
  const param = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;
  let i = 0;
  while (i < header.length) {
    param.lastIndex = i;
    const p = param.exec(header);
    if (p && challenges.length > 0 && p[1] !== undefined) {
      const value = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
      const current = challenges[challenges.length - 1];
      if (current) current.params[p[1].toLowerCase()] = value;
      i = param.lastIndex;
      continue;
    }
    token.lastIndex = i;
    const t = token.exec(header);
    if (!t || t[1] === undefined) {
      i++;
      continue;
    }
    challenges.push({ scheme: t[1].toLowerCase(), params: {} });
    i = token.lastIndex;
    while (header[i] === ',' || header[i] === ' ') i++;
  }
  return challenges;
}
