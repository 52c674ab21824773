/** The claims of a JWT that say what it is for; read for `--check`, never verified or logged whole. */
export interface JwtClaims {
  readonly iss: string | undefined;
  readonly aud: string | readonly string[] | undefined;
  readonly sub: string | undefined;
  readonly scope: string | undefined;
  readonly exp: Date | undefined;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && /^[\x20-\x7e]{1,300}$/.test(v) ? v : undefined);

/**
 * The payload of a compact JWS (https://www.rfc-editor.org/rfc/rfc7519#section-3), or
 * undefined for an opaque token. Only these claims are taken, and only printable short
 * strings: a token's payload may carry anything.
 */
export function jwtClaims(token: string): JwtClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  let payload: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    payload = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const aud = Array.isArray(payload.aud) ? payload.aud.map(text).filter((a): a is string => a !== undefined) : text(payload.aud);
  const exp = typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? new Date(payload.exp * 1000) : undefined;
  return { iss: text(payload.iss), aud, sub: text(payload.sub), scope: text(payload.scope) ?? text(payload.scp), exp };
}
