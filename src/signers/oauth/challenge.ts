/**
 * A parameter of the `Bearer` challenge in a `WWW-Authenticate` header (https://www.rfc-editor.org/rfc/rfc6750#section-3,
 * https://www.rfc-editor.org/rfc/rfc9728#section-5.1: `error`, `scope`, `resource_metadata`), or undefined. Parameters are
 * matched by name in any order, quoted or token-valued; a Bearer challenge may follow
 * another scheme's in the same header.
 */
export function challengeParam(header: string | undefined, name: string): string | undefined {
  const start = header === undefined ? null : /(?:^|,)\s*bearer(?:\s|$)/i.exec(header);
  if (header === undefined || start === null) return undefined;
  const re = new RegExp(`(?:^|[\\s,])${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s,]+))`, 'i');
  const m = re.exec(header.slice(start.index + start[0].length - 1));
  if (m === null) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
}
