/**
 * The OAuth URL policy and token endpoint rules, in process against loopback peers: what a
 * protected resource or an authorization server may point the proxy at, and what a token
 * endpoint may answer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { discoverAuthorizationServer } from '../../src/signers/oauth/discovery.js';
import { requestToken } from '../../src/signers/oauth/token-request.js';
import { Agent } from '../../src/transport/undici.js';

const cleanups = useCleanups();
const dispatcher = new Agent();

async function peer(handler: (req: http.IncomingMessage, res: http.ServerResponse, base: string) => void): Promise<string> {
  let base = '';
  const s = http.createServer((req, res) => handler(req, res, base));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => s.close(resolve)));
  base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return base;
}

const json = (res: http.ServerResponse, body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

/** A resource and authorization server in one peer, with the metadata `meta` makes. */
async function discoveryPeer(meta: (base: string) => { prm?: object; as?: object }) {
  const base = await peer((req, res, b) => {
    const m = meta(b);
    if (req.url === '/.well-known/oauth-protected-resource/mcp' && m.prm) return json(res, m.prm);
    if (req.url === '/.well-known/oauth-authorization-server' && m.as) return json(res, m.as);
    res.writeHead(404).end();
  });
  return { base, endpoint: new URL(`${base}/mcp`) };
}

describe('OAuth discovery: one URL policy for every discovered URL', () => {
  it('follows resource metadata to the authorization server and its token endpoint', async () => {
    const { endpoint } = await discoveryPeer((b) => ({ prm: { resource: `${b}/mcp`, authorization_servers: [b] }, as: { issuer: b, token_endpoint: `${b}/token`, token_endpoint_auth_methods_supported: ['client_secret_post'] } }));
    const as = await discoverAuthorizationServer(endpoint, undefined, dispatcher);
    expect(as.tokenEndpoint.href).toBe(`${endpoint.origin}/token`);
    expect(as.authMethods).toEqual(['client_secret_post']);
  });
  it.each([
    ['a plain-http token endpoint off loopback', (b: string) => ({ prm: { resource: `${b}/mcp`, authorization_servers: [b] }, as: { issuer: b, token_endpoint: 'http://as.example.com/token' } }), /not https/],
    ['a token endpoint with user:password', (b: string) => ({ prm: { resource: `${b}/mcp`, authorization_servers: [b] }, as: { issuer: b, token_endpoint: `${b.replace('//', '//u:p@')}/token` } }), /user:password/],
    ['metadata naming another issuer (mix-up)', (b: string) => ({ prm: { resource: `${b}/mcp`, authorization_servers: [b] }, as: { issuer: 'https://evil.example.com', token_endpoint: `${b}/token` } }), /another issuer/],
    ['resource metadata about another resource', (b: string) => ({ prm: { resource: 'https://other.example.com/mcp', authorization_servers: [b] } }), /another resource/],
    ['an authorization server over plain http off loopback', (b: string) => ({ prm: { resource: `${b}/mcp`, authorization_servers: ['http://as.example.com'] } }), /not https/],
    ['no authorization_servers', (b: string) => ({ prm: { resource: `${b}/mcp` } }), /names no authorization_servers/],
    ['resource metadata that names no resource (RFC 9728 requires it)', (b: string) => ({ prm: { authorization_servers: [b] } }), /names no resource/],
  ])('refuses %s', async (_name, meta, pattern) => {
    const { endpoint } = await discoveryPeer(meta);
    await expect(discoverAuthorizationServer(endpoint, undefined, dispatcher)).rejects.toThrow(pattern);
  });
  it('refuses a resource_metadata URL with user:password from the challenge', async () => {
    await expect(discoverAuthorizationServer(new URL('http://127.0.0.1:1/mcp'), 'https://u:p@a.example/m', dispatcher)).rejects.toThrow(/user:password/);
  });
});

describe('token endpoint', () => {
  const req = (base: string) => ({ tokenEndpoint: new URL(`${base}/token`), clientId: 'svc id', auth: { method: 'client_secret_basic' as const, secret: 'p@ss w:rd' }, scope: undefined, resource: 'https://mcp.example.com/mcp' });
  it('a redirect is an error: the client secret never follows it', async () => {
    let hits = 0;
    const target = await peer((_q, res) => {
      hits++;
      res.writeHead(200).end();
    });
    const base = await peer((_q, res) => res.writeHead(307, { location: `${target}/token` }).end());
    await expect(requestToken(dispatcher, req(base), Date.now())).rejects.toThrow(/redirect/);
    expect(hits).toBe(0);
  });
  it('client_secret_basic form-encodes id and secret (RFC 6749 section 2.3.1); the body is never quoted', async () => {
    let auth = '';
    const base = await peer((q, res) => {
      auth = q.headers.authorization ?? '';
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"server_error","error_description":"LEAKED-DESCRIPTION"}');
    });
    const err = await requestToken(dispatcher, req(base), Date.now()).catch((e: Error) => e);
    expect(Buffer.from(auth.slice(6), 'base64').toString()).toBe('svc+id:p%40ss+w%3Ard');
    expect(String((err as Error).message)).toMatch(/server_error/);
    expect(JSON.stringify(err)).not.toContain('LEAKED-DESCRIPTION');
  });
});
