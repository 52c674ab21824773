/**
 * What the proxy says when the server wants a kind of authentication that is not
 * configured: an OAuth challenge, a Cloudflare Access login (redirect or HTML page).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { INIT, spawnRaw } from '../helpers/spawn-proxy.js';

const cleanups = useCleanups();

async function server(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => s.close(resolve)));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/mcp`;
}

async function initError(url: string): Promise<{ message: string; data?: { hint?: string } }> {
  const p = spawnRaw({ MCP_ENDPOINT: url });
  cleanups.push(() => void p.child.kill('SIGKILL'));
  p.send(INIT);
  return (await p.waitFor((m) => m.id === 0)).error;
}

describe('servers that want authentication the proxy does not have', () => {
  it('401 with resource_metadata: the server uses OAuth; the settings and the login command are named', async () => {
    const url = await server((_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp"' }).end());
    const e = await initError(url);
    expect(e.message).toMatch(/the server uses OAuth/);
    expect(e.message).toMatch(/--oauth-client-id[\s\S]*MCP_OAUTH_CLIENT_SECRET/);
    expect(e.message).toContain(`run: mcp-signing-proxy login ${url}`);
  });

  it('a redirect to a *.cloudflareaccess.com login: Cloudflare Access and its service-token headers', async () => {
    const url = await server((_req, res) => res.writeHead(302, { location: 'https://acme.cloudflareaccess.com/cdn-cgi/access/login/mcp.acme.com?redirect_url=%2Fmcp' }).end());
    const e = await initError(url);
    expect(e.message).toMatch(/Cloudflare Access[\s\S]*CF-Access-Client-Id[\s\S]*CF-Access-Client-Secret/);
    expect(e.message).not.toContain('redirect_url');
  });

  it('an HTML login page from Cloudflare (200 text/html) and a 403 page naming Access', async () => {
    const page = await server((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', server: 'cloudflare', 'cf-ray': '8a1b2c3d4e5f-AMS' }).end('<html><title>Sign in ・ Cloudflare Access</title></html>'));
    expect((await initError(page)).message).toMatch(/text\/html[\s\S]*Cloudflare[\s\S]*CF-Access-Client-Id/);
    const blocked = await server((_req, res) => res.writeHead(403, { 'content-type': 'text/html' }).end('<html><a href="https://acme.cloudflareaccess.com/cdn-cgi/access/logout">Cloudflare Access</a></html>'));
    expect((await initError(blocked)).message).toMatch(/Cloudflare Access[\s\S]*CF-Access-Client-Secret/);
  });

  it('a 403 with no credentials configured says that none are', async () => {
    const url = await server((_req, res) => res.writeHead(403).end());
    expect((await initError(url)).message).toMatch(/no credentials are configured/);
  });
});
