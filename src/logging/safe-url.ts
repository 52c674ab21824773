/**
 * The one way the proxy prints a URL or a host: in client-visible errors (which reach the
 * model's context) and in log lines at every level, trace included. Two layers:
 *
 * - values the proxy itself holds as secrets (bearer token, configured and helper-made
 *   header values, proxy credentials, key passphrase) are registered where they are read
 *   and masked wherever they occur, whatever they look like, so a short or letter-only
 *   token is caught too;
 * - path segments that look like keys are masked, because some hosted MCP URLs carry their
 *   secret in the path (README "Troubleshooting": secrets are never logged at any level).
 *
 * Query strings, `;params`, user:password and fragments are never printed.
 */

const MASK = '…';

// Shorter values would match ordinary words, numbers and path names ("mcp", "true", "443");
// a credential that short protects nothing anyway.
const MIN_SECRET_LENGTH = 6;
// A rotating source (a token file, a headers helper, refreshed AWS keys) keeps its current
// value and the one before it (requests signed with it may still fail and be reported), so
// the set stays small however long the proxy runs; values without a source never expire.
const KEPT_PER_SOURCE = 2;

/** Values without a source (configured once at start-up), and per rotating source its newest values. */
const fixed = new Set<string>();
const rotating = new Map<string, string[]>();
let pattern: RegExp | undefined;

/**
 * Remembers a value the proxy holds as a secret so that nothing printed through this module
 * can contain it. The values stay in this module: nothing reads them back but the matcher.
 * `source` names a rotating secret (e.g. "bearer-token-file"): its new value replaces the
 * older ones instead of adding up.
 */
export function registerSecret(value: string | undefined, source?: string): void {
  const v = value?.trim();
  if (v === undefined || v.length < MIN_SECRET_LENGTH || fixed.has(v)) return;
  if (source === undefined) {
    fixed.add(v);
  } else {
    const values = rotating.get(source) ?? [];
    if (values.includes(v)) return;
    rotating.set(source, [v, ...values].slice(0, KEPT_PER_SOURCE));
  }
  // Longest first, so a secret that contains another is masked whole. Case-insensitive:
  // URL parsing lower-cases host names.
  const all = new Set([...fixed, ...[...rotating.values()].flat()]);
  const alternatives = [...all].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  pattern = new RegExp(alternatives.join('|'), 'gi');
}

/** `text` with every registered secret replaced by `…`. */
export function scrubSecrets(text: string): string {
  return pattern === undefined ? text : text.replace(pattern, MASK);
}

function containsSecret(text: string): boolean {
  if (pattern === undefined) return false;
  pattern.lastIndex = 0;
  return pattern.test(text);
}

// Something that looks like a key (16+ characters of letters and digits mixed, base64/JWT/
// percent-encoded alphabet) is masked: some hosted MCP URLs carry their secret in the path.
const TOKEN_LIKE = /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-.~+%=]{16,}$/;

export function maskTokenLike(text: string): string {
  // An encoded ARN (AgentCore runtime paths) names a resource, not a secret.
  return (TOKEN_LIKE.test(text) && !/^arn%3A/i.test(text)) || containsSecret(text) ? MASK : text;
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function safeSegment(segment: string): string {
  const semi = segment.indexOf(';');
  const name = semi === -1 ? segment : segment.slice(0, semi);
  // A registered secret may sit in the path percent-encoded.
  // A segment a secret touched is masked whole (a URL's own path never holds a raw `…`).
  const masked = name.includes(MASK) || maskTokenLike(name) === MASK || containsSecret(decoded(name)) ? MASK : name;
  return semi === -1 ? masked : `${masked};${MASK}`;
}

/**
 * A registered secret may contain `/` (base64 tokens, AWS secret keys), so it would span
 * segments: it is masked in the whole path, as sent or percent-decoded, before the path is
 * split.
 */
function withoutSecretSpans(path: string): string {
  if (containsSecret(path)) return scrubSecrets(path);
  const plain = decoded(path);
  return plain !== path && containsSecret(plain) ? scrubSecrets(plain) : path;
}

/** Scheme, host and port; a registered secret in the host name is masked. */
export function safeOrigin(url: URL): string {
  return scrubSecrets(url.origin);
}

/** Host and port, as in "connection refused by 127.0.0.1:8080". */
export function safeHost(url: URL): string {
  return scrubSecrets(url.host);
}

/** Host name without the port. */
export function safeHostname(url: URL): string {
  return scrubSecrets(url.hostname);
}

/** Origin and path with key-like and secret segments masked; `?…` stands for any query. */
export function safeUrl(url: URL): string {
  const path = withoutSecretSpans(url.pathname).split('/').map(safeSegment).join('/');
  return `${safeOrigin(url)}${path}${url.search ? `?${MASK}` : ''}`;
}
