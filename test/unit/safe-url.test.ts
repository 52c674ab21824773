import { describe, expect, it } from 'vitest';
import { ProxyError, toJsonRpcError } from '../../src/errors.js';
import { maskTokenLike, registerSecret, safeHost, safeHostname, safeOrigin, safeUrl, scrubSecrets } from '../../src/logging/safe-url.js';

// Letter-only and short: no heuristic can tell these from a path word, only registration can.
const BEARER = 'hunterbearer';
const HEADER = 'Hunter2Zq';

describe('registered secrets are masked wherever a URL or host is printed', () => {
  registerSecret(BEARER);
  registerSecret(HEADER);

  it.each([
    ['a path segment', `https://h.example/mcp/${BEARER}/login`, 'https://h.example/mcp/…/login'],
    ['inside a segment', `https://h.example/v1/key-${BEARER}-x/mcp`, 'https://h.example/v1/…/mcp'],
    ['percent-encoded in a segment', 'https://h.example/mcp/%68unterbearer', 'https://h.example/mcp/…'],
    ['another case', 'https://h.example/mcp/HUNTERBEARER', 'https://h.example/mcp/…'],
    ['before ;params', `https://h.example/mcp/${HEADER};v=1`, 'https://h.example/mcp/…;…'],
    ['the host (lower-cased by URL parsing)', `https://${HEADER}.h.example:8443/mcp`, 'https://….h.example:8443/mcp'],
    ['the query (never printed)', `https://h.example/mcp?token=${BEARER}&k=v`, 'https://h.example/mcp?…'],
    ['user:password (never printed)', `https://u:${BEARER}@h.example/mcp`, 'https://h.example/mcp'],
    ['a fragment (never printed)', `https://h.example/mcp#${BEARER}`, 'https://h.example/mcp'],
  ])('%s', (_where, url, expected) => {
    const printed = safeUrl(new URL(url));
    expect(printed).toBe(expected);
    expect(printed.toLowerCase()).not.toContain(BEARER);
  });

  it('keeps ordinary paths and the heuristic for unregistered keys', () => {
    expect(safeUrl(new URL('https://h.example/v1/prod/mcp'))).toBe('https://h.example/v1/prod/mcp');
    expect(safeUrl(new URL('https://h.example/s/a1B2c3D4e5F6g7H8i9J0k1L2/mcp'))).toBe('https://h.example/s/…/mcp');
  });

  it('hosts and origins alone', () => {
    const url = new URL(`http://${BEARER}.h.example:8080/mcp`);
    expect(safeHost(url)).toBe('….h.example:8080');
    expect(safeHostname(url)).toBe('….h.example');
    expect(safeOrigin(url)).toBe('http://….h.example:8080');
    expect(safeOrigin(new URL('https://h.example/x'))).toBe('https://h.example');
  });

  it('header names that contain a secret are masked like key-like ones', () => {
    expect(maskTokenLike(`x-${BEARER}`)).toBe('…');
    expect(maskTokenLike('x-api-key')).toBe('x-api-key');
  });

  it('free text: every occurrence, a longer secret that contains a shorter one masked whole', () => {
    registerSecret('hunterbearer-extended');
    expect(scrubSecrets(`a ${BEARER} b hunterbearer-extended c HUNTER2ZQ`)).toBe('a … b … c …');
  });

  it('values too short to be secrets are not registered (they would mask ordinary words)', () => {
    registerSecret('true');
    registerSecret('mcp');
    registerSecret(undefined);
    expect(scrubSecrets('true mcp')).toBe('true mcp');
  });

  it('regex metacharacters in a secret match literally', () => {
    registerSecret('a+b(c)*d');
    expect(scrubSecrets('x a+b(c)*d y aab')).toBe('x … y aab');
  });

  it('client-visible errors and serialized errors are scrubbed of registered secrets', () => {
    const err = new ProxyError('ESP_X', `something quoted ${BEARER}`, { hint: `and ${HEADER} here` });
    const rpc = toJsonRpcError(err);
    expect(rpc.message).toBe('mcp-signing-proxy: something quoted … (fix: and … here)');
    expect(rpc.data?.hint).toBe('and … here');
    expect(JSON.stringify(err.toJSON())).not.toMatch(/hunter/i);
  });
});

describe('the registry stays bounded', () => {
  it('a rotating source keeps its newest values; values without a source never expire', () => {
    registerSecret('static-api-key-value');
    const values = Array.from({ length: 200 }, (_, i) => `rotated-token-${String(i).padStart(3, '0')}`);
    for (const v of values) registerSecret(v, 'aws-session-token');
    expect(scrubSecrets(values[199]!)).toBe('…');
    expect(scrubSecrets(values[198]!)).toBe('…');
    // Long expired: replaced by the newer values of the same source.
    expect(scrubSecrets(values[0]!)).toBe(values[0]);
    // Configured once at start-up: still masked after any number of rotations.
    expect(scrubSecrets('x static-api-key-value y')).toBe('x … y');
  });
});

describe('a secret that spans path segments', () => {
  const KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  registerSecret(KEY);

  it.each([
    ['as sent', `https://h.example/mcp/${KEY}/login`],
    ['percent-encoded', `https://h.example/mcp/${encodeURIComponent(KEY)}/login`],
  ])('%s', (_how, url) => {
    const printed = safeUrl(new URL(url));
    expect(printed).toBe('https://h.example/mcp/…/login');
  });
});
