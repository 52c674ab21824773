/**
 * The canonical parts of a SigV4 request, as AWS specifies them for every service but S3
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):
 * the path normalised and URI-encoded once more than it goes on the wire, the query
 * sorted by encoded name, header values with folded whitespace. Matches what
 * @smithy/signature-v4 computes with `uriEscapePath: true` byte for byte (pinned by the
 * AWS test suites and a differential test).
 */

/** RFC 3986 unreserved characters stay; everything else is %XX, including !'()*. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The canonical URI of `path` (the pathname as it goes on the wire): empty and `.`
 * segments dropped, `..` removes the one before, then every segment encoded again, so a
 * `%3A` on the wire is signed as `%253A`.
 */
export function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return uriEncode(normalized).replace(/%2F/g, '/');
}

/**
 * The canonical query of `search` (`URL.search`, with or without its `?`). Names and
 * values are percent-decoded only: a literal `+` stays `+` (canonical `%2B`), which is how
 * AWS reads it; form-decoding would turn it into a space and sign `%20` instead, a
 * signature AWS rejects. Malformed escapes are kept verbatim. Repeated names sort by value;
 * an X-Amz-Signature parameter is never part of what it signs.
 */
export function canonicalQuery(search: string): string {
  const byName = new Map<string, string[]>();
  const query = search.startsWith('?') ? search.slice(1) : search;
  if (query === '') return '';
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = percentDecode(eq === -1 ? pair : pair.slice(0, eq));
    if (name.toLowerCase() === 'x-amz-signature') continue;
    const value = eq === -1 ? '' : percentDecode(pair.slice(eq + 1));
    const encodedName = uriEncode(name);
    const entry = `${encodedName}=${uriEncode(value)}`;
    const values = byName.get(encodedName);
    if (values === undefined) byName.set(encodedName, [entry]);
    else values.push(entry);
  }
  return [...byName.keys()]
    .sort()
    .map((name) => (byName.get(name) as string[]).sort().join('&'))
    .join('&');
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Headers never signed, whatever the caller passes: hop-by-hop and request-context
 * headers a proxy or the HTTP stack may change, and `sec-*` / `proxy-*` (the same list as
 * the AWS SDKs, so a request signs the same with either).
 */
const NEVER_SIGNED: ReadonlySet<string> = new Set([
  'authorization',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);

export function isNeverSigned(lowerName: string): boolean {
  return NEVER_SIGNED.has(lowerName) || lowerName.startsWith('proxy-') || lowerName.startsWith('sec-');
}

export interface CanonicalHeaders {
  /** Sorted lower-case names: the SignedHeaders list. */
  readonly names: readonly string[];
  /** `name:value` lines, in that order. */
  readonly lines: string;
}

/**
 * Lower-cased names, values with line breaks turned into spaces, runs of spaces and tabs
 * folded into one, and the ends trimmed. When two names differ only in case, the one
 * sorting last wins.
 */
export function canonicalHeaders(headers: Readonly<Record<string, string | undefined>>): CanonicalHeaders {
  const values = new Map<string, string>();
  for (const name of Object.keys(headers).sort()) {
    const value = headers[name];
    if (value === undefined || value === null) continue;
    const lower = name.toLowerCase();
    if (isNeverSigned(lower)) continue;
    values.set(lower, value.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, ''));
  }
  const names = [...values.keys()].sort();
  return { names, lines: names.map((name) => `${name}:${values.get(name) as string}`).join('\n') };
}
