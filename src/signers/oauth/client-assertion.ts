import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../errors.js';

export interface AssertionKey {
  readonly key: KeyObject;
  readonly alg: 'RS256' | 'ES256';
  readonly kid: string | undefined;
}

/** Loads the PEM private key for private_key_jwt; the algorithm follows from the key. */
export function loadAssertionKey(file: string, kid: string | undefined): AssertionKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const why = code.startsWith('E') && !code.startsWith('ERR_') ? `cannot be read (${code})` : 'is not a PEM private key (or is encrypted)';
    throw new ConfigError(`--oauth-private-key-file ${file} ${why}`, 'give an unencrypted PEM private key (RSA for RS256, P-256 EC for ES256)');
  }
  if (key.asymmetricKeyType === 'rsa') return { key, alg: 'RS256', kid };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { key, alg: 'ES256', kid };
  throw new ConfigError(`--oauth-private-key-file ${file} holds a ${key.asymmetricKeyType ?? 'unknown'} key`, 'use an RSA key (RS256) or a P-256 EC key (ES256)');
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/**
 * A client assertion for private_key_jwt (https://www.rfc-editor.org/rfc/rfc7523#section-3, the MCP client-credentials
 * extension): iss = sub = client id, aud = the authorization server's issuer when its
 * metadata is known (as draft-ietf-oauth-rfc7523bis asks and the MCP SDK does), else the
 * token endpoint; short-lived, unique jti.
 */
export function clientAssertion(k: AssertionKey, clientId: string, audience: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const header = b64url(JSON.stringify({ alg: k.alg, typ: 'JWT', ...(k.kid === undefined ? {} : { kid: k.kid }) }));
  const payload = b64url(JSON.stringify({ iss: clientId, sub: clientId, aud: audience, iat, exp: iat + 60, jti: randomUUID() }));
  const input = `${header}.${payload}`;
  // JWS ES256 is the raw r||s pair (https://www.rfc-editor.org/rfc/rfc7518#section-3.4), not DER.
  const sig = sign('sha256', Buffer.from(input), k.alg === 'ES256' ? { key: k.key, dsaEncoding: 'ieee-p1363' } : k.key);
  return `${input}.${b64url(sig)}`;
}
