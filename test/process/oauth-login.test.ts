/**
 * The OAuth browser login through the built CLI: `login` against a loopback authorization
 * server (test/helpers/oauth-server.ts), the browser step driven by the test (it follows the
 * printed authorization URL with fetch and delivers the redirect to the loopback listener),
 * then the proxy under a "host" using, refreshing and losing the stored login, and `logout`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { startMcpServer, type McpTestServer } from '../helpers/mcp-server.js';
import { protectResource, startAuthorizationServer, type AuthorizationServerOptions, type ProtectOptions, type TestAuthorizationServer } from '../helpers/oauth-server.js';
import { closedPort } from '../helpers/scripted-server.js';
import { BIN, hermeticEnv, INIT, spawnRaw, type RawProxy } from '../helpers/spawn-proxy.js';

const cleanups = useCleanups();

interface Setup {
  as: TestAuthorizationServer;
  mcp: McpTestServer;
  /** XDG_CONFIG_HOME shared by the login and the proxies. */
  config: string;
  store: string;
}

async function setup(asOpts: Partial<AuthorizationServerOptions> = {}, protect: ProtectOptions = {}): Promise<Setup> {
  const as = await startAuthorizationServer({ clients: [{ id: 'cli-public', public: true }], ...asOpts });
  cleanups.push(() => as.close());
  const mcp = await startMcpServer({ wrap: protectResource(as, protect), jsonResponse: true, path: protect.mcpPath ?? '/mcp' });
  cleanups.push(() => mcp.close());
  const config = mkdtempSync(join(tmpdir(), 'msp-xdg-'));
  return { as, mcp, config, store: join(config, 'mcp-signing-proxy', 'oauth-tokens.json') };
}

interface LoginRun {
  /** The authorization URL as printed on stderr (or given to the opener). */
  url: Promise<string>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

const URL_LINE = /(?:open this URL in a browser to log in|if it did not, open this URL): (\S+)/;

function login(s: Setup, args: string[], env: Record<string, string> = {}): LoginRun {
  const child = spawn(process.execPath, [BIN, 'login', s.mcp.url, ...args], { env: hermeticEnv({ XDG_CONFIG_HOME: s.config, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => void child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  let found: (u: string) => void = () => undefined;
  const url = new Promise<string>((resolve) => (found = resolve));
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    const m = URL_LINE.exec(stderr);
    if (m?.[1] !== undefined) found(m[1]);
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { url, done };
}

/** The user's browser: the authorization server redirects to the loopback listener, which answers. */
async function browse(authorizationUrl: string): Promise<{ status: number; location: string }> {
  const res = await fetch(authorizationUrl, { redirect: 'manual' });
  const location = res.headers.get('location') ?? '';
  expect(res.status, await res.text()).toBe(302);
  const back = await fetch(location);
  await back.text();
  return { status: back.status, location };
}

async function loggedIn(s: Setup, args: string[] = ['--no-browser']): Promise<{ stdout: string; stderr: string }> {
  const run = login(s, args);
  await browse(await run.url);
  const r = await run.done;
  expect(r.code, r.stderr).toBe(0);
  return r;
}

function proxy(s: Setup, env: Record<string, string> = {}, args: string[] = []): RawProxy {
  const p = spawnRaw({ MCP_ENDPOINT: s.mcp.url, XDG_CONFIG_HOME: s.config, MCP_LOG_LEVEL: 'debug', ...env }, args);
  cleanups.push(() => void p.child.kill('SIGKILL'));
  return p;
}

async function echo(p: RawProxy, id: number): Promise<any> {
  p.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: `t${id}` } } });
  return p.waitFor((m) => m.id === id);
}

function stored(s: Setup): any[] {
  return Object.values(JSON.parse(readFileSync(s.store, 'utf8')).logins);
}

/** Every token, code and refresh token the authorization server issued. */
function issuedSecrets(s: Setup): string[] {
  return [...s.as.tokens.keys(), ...s.as.refreshTokens.keys(), ...stored(s).flatMap((l) => [l.accessToken, l.refreshToken]), ...s.as.requests.flatMap((r) => [r.form.code, r.form.code_verifier, r.form.refresh_token])].filter(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
}

describe('OAuth browser login (authorization code + PKCE) through the spawned CLI', () => {
  it('logs in with dynamic registration, stores the login 0600, and the proxy under a host uses it; logout removes it', async () => {
    const s = await setup();
    const l = await loggedIn(s, ['--no-browser', '--debug']);
    expect(l.stdout).toMatch(/logged in: .*\/mcp/);
    // The authorization request (MCP authorization spec): PKCE S256, state, resource, loopback redirect.
    const [auth] = s.as.authorizations;
    expect(auth?.params).toMatchObject({ response_type: 'code', code_challenge_method: 'S256', resource: s.mcp.url, client_id: 'dcr-1', scope: 'mcp:read mcp:write' });
    expect(auth?.params.state).toMatch(/^[\w-]{32,}$/);
    expect(auth?.params.redirect_uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(s.as.requests.map((r) => r.form.grant_type)).toEqual(['authorization_code']);
    expect(s.as.requests[0]?.form.code_verifier).toMatch(/^[\w-]{43}$/);
    expect(statSync(s.store).mode & 0o777).toBe(0o600);
    expect(statSync(join(s.config, 'mcp-signing-proxy')).mode & 0o777).toBe(0o700);
    expect(stored(s)).toEqual([expect.objectContaining({ issuer: s.as.issuer, resource: s.mcp.url, clientId: 'dcr-1', registration: 'dynamic', configuredClientId: null })]);

    const p = proxy(s);
    p.send(INIT);
    expect((await p.waitFor((m) => m.id === 0)).result?.serverInfo?.name).toBe('test-remote');
    expect((await echo(p, 1)).result?.content?.[0]?.text).toBe('t1');
    expect(p.stderr()).toContain('"signer":"oauth-login"');
    const secrets = issuedSecrets(s);
    expect(secrets.length).toBeGreaterThan(3);
    for (const out of [l.stdout + l.stderr, p.lines.join('\n') + p.stderr()]) for (const secret of secrets) expect(out).not.toContain(secret);
    p.child.kill('SIGKILL');

    const out = await new Promise<string>((resolve) => {
      const c = spawn(process.execPath, [BIN, 'logout', s.mcp.url], { env: hermeticEnv({ XDG_CONFIG_HOME: s.config }) });
      let text = '';
      c.stdout.on('data', (d: Buffer) => (text += d.toString()));
      c.on('exit', () => resolve(text));
    });
    expect(out).toContain(`removed the stored login: ${s.mcp.url}`);
    expect(stored(s)).toEqual([]);
    const after = proxy(s);
    after.send(INIT);
    expect((await after.waitFor((m) => m.id === 0)).error?.message).toContain(`run: mcp-signing-proxy login ${s.mcp.url}`);
  });

  it('refreshes ahead of a short expiry with rotation; the used refresh token is dead, the new one stored', async () => {
    const s = await setup({ expiresIn: 3 });
    await loggedIn(s);
    const first = stored(s)[0].refreshToken as string;
    const p = proxy(s);
    p.send(INIT);
    const init = await p.waitFor((m) => m.id === 0);
    expect(init.result, JSON.stringify(init) + p.stderr()).toBeDefined();
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    // Each 3-second token is refreshed once it is too close to expiry, with the refresh token the previous refresh returned.
    for (const id of [1, 2]) {
      await new Promise((r) => setTimeout(r, 3200));
      expect((await echo(p, id)).result?.content?.[0]?.text).toBe(`t${id}`);
    }
    const refreshes = s.as.requests.filter((r) => r.form.grant_type === 'refresh_token').map((r) => r.form.refresh_token);
    expect(refreshes.length).toBeGreaterThanOrEqual(2);
    expect(refreshes[0]).toBe(first);
    expect(new Set(refreshes).size).toBe(refreshes.length);
    expect(s.as.refreshTokens.has(first)).toBe(false);
    const now = stored(s)[0].refreshToken as string;
    expect(now).not.toBe(first);
    expect(s.as.refreshTokens.has(now)).toBe(true);
    for (const secret of issuedSecrets(s)) expect(p.stderr() + p.lines.join('\n')).not.toContain(secret);
  });

  it('two proxies sharing the store refresh under its lock: each refresh token is used once, both keep working', async () => {
    const s = await setup({ expiresIn: 3 });
    await loggedIn(s);
    const [a, b] = [proxy(s), proxy(s)];
    for (const p of [a, b]) {
      p.send(INIT);
      expect((await p.waitFor((m) => m.id === 0)).result).toBeDefined();
      p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    }
    for (const id of [1, 2]) {
      await new Promise((r) => setTimeout(r, 3200));
      const answers = await Promise.all([echo(a, id), echo(b, id)]);
      for (const answer of answers) expect(answer.result?.content?.[0]?.text, JSON.stringify(answer)).toBe(`t${id}`);
    }
    const used = s.as.requests.filter((r) => r.form.grant_type === 'refresh_token').map((r) => r.form.refresh_token);
    expect(used.length).toBeGreaterThanOrEqual(2);
    expect(new Set(used).size).toBe(used.length);
  });

  it('with a token endpoint slower than the default lock wait, the second proxy waits for the first refresh instead of reusing its refresh token', async () => {
    // 10-second tokens are refreshed after 5 s (half their lifetime); the refresh takes 3 s.
    const s = await setup({ expiresIn: 10, refreshDelayMs: 3000 });
    await loggedIn(s);
    const [a, b] = [proxy(s), proxy(s)];
    for (const p of [a, b]) {
      p.send(INIT);
      expect((await p.waitFor((m) => m.id === 0)).result).toBeDefined();
      p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    }
    await new Promise((r) => setTimeout(r, 5500));
    const answers = await Promise.all([echo(a, 1), echo(b, 1)]);
    for (const answer of answers) expect(answer.result?.content?.[0]?.text, JSON.stringify(answer)).toBe('t1');
    // Both proxies' refreshes (in the background while the current token still works) are over after two slow token requests.
    await new Promise((r) => setTimeout(r, 7000));
    for (const answer of await Promise.all([echo(a, 2), echo(b, 2)])) expect(answer.result?.content?.[0]?.text, JSON.stringify(answer)).toBe('t2');
    const used = s.as.requests.filter((r) => r.form.grant_type === 'refresh_token').map((r) => r.form.refresh_token);
    expect(used.length).toBeGreaterThanOrEqual(1);
    // An authorization server with reuse detection would revoke the whole token family on a second use.
    expect(new Set(used).size).toBe(used.length);
    for (const p of [a, b]) expect(p.stderr()).not.toContain('locked by another process');
  });

  it('a granted scope with control characters (a terminal escape, a forged line) is not printed', async () => {
    const s = await setup({ login: { grantedScope: 'mcp:read\u001b]0;pwned\u0007\r\nlogged in: somewhere else' } });
    const l = await loggedIn(s);
    expect(l.stdout).toMatch(/^logged in: http:\/\/127\.0\.0\.1:\d+\/mcp at /);
    expect(l.stdout).not.toContain('scope');
    expect(l.stdout + l.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(l.stdout.split('\n').filter((line) => line.startsWith('logged in:'))).toHaveLength(1);
  });

  it('a login that can no longer be refreshed (invalid_grant) answers with the login command, not a hang', async () => {
    const s = await setup();
    await loggedIn(s);
    s.as.revokeAll();
    s.as.revokeRefreshTokens();
    const p = proxy(s);
    p.send(INIT);
    const answer = await p.waitFor((m) => m.id === 0);
    expect(answer.error?.message).toMatch(/can no longer be refreshed \(.*invalid_grant\)/);
    expect(answer.error?.message).toContain(`run: mcp-signing-proxy login ${s.mcp.url}`);
  });

  it('a 401 invalid_token gets one refresh and the request is retried', async () => {
    const s = await setup();
    await loggedIn(s);
    const p = proxy(s);
    p.send(INIT);
    expect((await p.waitFor((m) => m.id === 0)).result).toBeDefined();
    p.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    s.as.revokeAll();
    expect((await echo(p, 1)).result?.content?.[0]?.text).toBe('t1');
    expect(s.as.requests.filter((r) => r.form.grant_type === 'refresh_token')).toHaveLength(1);
  });

  it('with no stored login, --signer oauth-login answers every request at once with the login command', async () => {
    const s = await setup();
    const p = proxy(s, { MCP_OAUTH_CLIENT_ID: 'cli-public' }, ['--signer', 'oauth-login']);
    p.send(INIT);
    const answer = await p.waitFor((m) => m.id === 0, 5000);
    expect(answer.error?.message).toContain(`no OAuth login is stored for ${s.mcp.url}`);
    expect(answer.error?.message).toContain(`run: mcp-signing-proxy login ${s.mcp.url} --oauth-client-id cli-public`);
    expect(s.as.authorizations).toHaveLength(0);
  });

  it('settings from a config file: the login command names --config and --server, and run as printed it makes the login the host finds', async () => {
    const s = await setup({ login: { noRegistration: true } });
    // A directory with a space and a quote: the command must survive a shell.
    const dir = join(mkdtempSync(join(tmpdir(), 'msp-cfg-')), "team's configs");
    mkdirSync(dir);
    const file = join(dir, 'proxy.json');
    writeFileSync(file, JSON.stringify({ servers: { work: { endpoint: s.mcp.url, signer: 'oauth-login', 'oauth-client-id': 'cli-public' } } }));
    // As a host starts it: the config file and server from its env block.
    const host = { MCP_ENDPOINT: '', MCP_PROXY_CONFIG: file, MCP_PROXY_SERVER: 'work' };
    const p = proxy(s, host);
    p.send(INIT);
    const message: string = (await p.waitFor((m) => m.id === 0, 5000)).error?.message ?? '';
    const command = /run: (mcp-signing-proxy login .*)\)$/.exec(message)?.[1];
    expect(command).toBe(`mcp-signing-proxy login ${s.mcp.url} --config '${file.replace(/'/g, "'\\''")}' --server work --oauth-client-id cli-public`);

    // A person pastes it into a terminal: another directory, none of the host's variables.
    const child = spawn('/bin/sh', ['-c', `${command?.replace(/^mcp-signing-proxy/, `'${process.execPath}' '${BIN}'`)} --no-browser`], { cwd: tmpdir(), env: hermeticEnv({ XDG_CONFIG_HOME: s.config }), stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => void child.kill('SIGKILL'));
    let stderr = '';
    const url = new Promise<string>((resolve) =>
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        const m = URL_LINE.exec(stderr);
        if (m?.[1] !== undefined) resolve(m[1]);
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await browse(await url);
    expect(await exited, stderr).toBe(0);

    const after = proxy(s, host);
    after.send(INIT);
    expect((await after.waitFor((m) => m.id === 0)).result?.serverInfo?.name).toBe('test-remote');
  });

  it('a pre-registered public client (--oauth-client-id): the login is found only with the same client id', async () => {
    const s = await setup({ login: { noRegistration: true } });
    await loggedIn(s, ['--no-browser', '--oauth-client-id', 'cli-public']);
    expect(s.as.authorizations[0]?.params.client_id).toBe('cli-public');
    expect(stored(s)[0]).toMatchObject({ configuredClientId: 'cli-public', registration: 'pre-registered' });
    const same = proxy(s, { MCP_OAUTH_CLIENT_ID: 'cli-public' });
    same.send(INIT);
    expect((await same.waitFor((m) => m.id === 0)).result).toBeDefined();
    const other = proxy(s);
    other.send(INIT);
    expect((await other.waitFor((m) => m.id === 0)).error?.message).toMatch(/the server uses OAuth[\s\S]*run: mcp-signing-proxy login/);
  });

  it('without a client id, metadata document or registration endpoint, login says what to configure', async () => {
    const s = await setup({ login: { noRegistration: true } });
    const r = await login(s, ['--no-browser']).done;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/offers no way for this proxy to register itself[\s\S]*fix: .*--oauth-client-id/);
  });

  it('refuses an authorization server that does not advertise PKCE S256', async () => {
    const s = await setup({ login: { noPkce: true } });
    const r = await login(s, ['--no-browser']).done;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/does not advertise PKCE with S256/);
    expect(s.as.authorizations).toHaveLength(0);
  });

  it('a registered client with a secret presents it as registration said (client_secret_basic), in the code and the refresh grant', async () => {
    const s = await setup({ login: { registerBasicSecret: true } });
    await loggedIn(s);
    const p = proxy(s);
    p.send(INIT);
    await p.waitFor((m) => m.id === 0);
    // A rejected access token (invalid_token) makes the proxy refresh.
    s.as.revokeAll();
    expect((await echo(p, 1)).result?.content?.[0]?.text).toBe('t1');
    expect(s.as.requests.map((r) => r.form.grant_type)).toEqual(['authorization_code', 'refresh_token']);
    for (const r of s.as.requests) {
      expect(r.headers.authorization).toMatch(/^Basic /);
      expect(r.form.client_secret).toBeUndefined();
    }
  });

  it('sends the resource exactly as the protected-resource metadata publishes it (the origin alone), in every grant', async () => {
    const s = await setup({}, { originResource: true });
    await loggedIn(s);
    const origin = new URL(s.mcp.url).origin;
    expect(s.as.authorizations[0]?.params.resource).toBe(origin);
    const p = proxy(s);
    p.send(INIT);
    await p.waitFor((m) => m.id === 0);
    s.as.revokeAll();
    expect((await echo(p, 1)).result?.content?.[0]?.text).toBe('t1');
    expect(s.as.requests.map((r) => [r.form.grant_type, r.form.resource])).toEqual([
      ['authorization_code', origin],
      ['refresh_token', origin],
    ]);
  });

  it('uses a Client ID Metadata Document when the server supports it', async () => {
    const s = await setup({ login: { cimd: true } });
    await loggedIn(s, ['--no-browser', '--oauth-client-metadata-url', 'https://client.example.com/mcp-client.json']);
    expect(s.as.authorizations[0]?.params.client_id).toBe('https://client.example.com/mcp-client.json');
    expect(s.as.registered).toHaveLength(0);
    expect(stored(s)[0]).toMatchObject({ registration: 'metadata-document', configuredClientId: null });
  });

  it('the loopback listener ignores a wrong state (400) and still completes with the right one', async () => {
    const s = await setup();
    const run = login(s, ['--no-browser']);
    const url = new URL(await run.url);
    const redirect = url.searchParams.get('redirect_uri') as string;
    const wrong = await fetch(`${redirect}?code=forged&state=wrong`);
    expect(wrong.status).toBe(400);
    await wrong.text();
    const other = await fetch(`${redirect.replace('/callback', '/other')}?state=${url.searchParams.get('state')}`);
    expect(other.status).toBe(400);
    await other.text();
    const ok = await browse(url.href);
    expect(ok.status).toBe(200);
    expect((await run.done).code).toBe(0);
    // Closed after the one answer.
    await expect(fetch(`${redirect}?state=x`)).rejects.toThrow();
  });

  it('an answer with another iss is refused (RFC 9207)', async () => {
    const s = await setup({ login: { iss: 'http://127.0.0.1:1/evil' } });
    const run = login(s, ['--no-browser']);
    await browse(await run.url);
    const r = await run.done;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/names another issuer \(RFC 9207\)/);
    expect(existsSync(s.store)).toBe(false);
  });

  it('opens the browser without a shell: the URL is the opener\'s one argument', async () => {
    const s = await setup();
    const bin = mkdtempSync(join(tmpdir(), 'msp-bin-'));
    const record = join(bin, 'argv.json');
    writeFileSync(join(bin, 'xdg-open'), `#!${process.execPath}\nrequire('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(process.argv.slice(2)));\n`);
    chmodSync(join(bin, 'xdg-open'), 0o755);
    const run = login(s, [], { PATH: `${bin}:${process.env.PATH ?? ''}`, DISPLAY: ':99' });
    const printed = await run.url;
    for (let i = 0; i < 100 && !existsSync(record); i++) await new Promise((r) => setTimeout(r, 50));
    const argv = JSON.parse(readFileSync(record, 'utf8')) as string[];
    expect(argv).toEqual([printed]);
    await browse(argv[0] as string);
    expect((await run.done).code).toBe(0);
  });

  it.each(['javascript:alert(1)//', 'file:///etc/passwd'])('refuses an authorization_endpoint of %s and never starts the opener', async (endpoint) => {
    const s = await setup({ login: { authorizationEndpoint: endpoint } });
    const bin = mkdtempSync(join(tmpdir(), 'msp-bin-'));
    const marker = join(bin, 'spawned');
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\ntouch ${marker}\n`);
    chmodSync(join(bin, 'xdg-open'), 0o755);
    const r = await login(s, [], { PATH: `${bin}:${process.env.PATH ?? ''}`, DISPLAY: ':99' }).done;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/the authorization endpoint .*(not https|not a valid URL)/);
    expect(existsSync(marker)).toBe(false);
    expect(s.as.authorizations).toHaveLength(0);
  });

  it('--oauth-interactive: a proxy with no login runs the browser login itself, printing the URL to stderr', async () => {
    const s = await setup();
    const p = proxy(s, {}, ['--oauth-interactive', '--no-browser']);
    p.send(INIT);
    let url: string | undefined;
    for (let i = 0; i < 200 && url === undefined; i++) {
      url = URL_LINE.exec(p.stderr())?.[1];
      if (url === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(url).toBeDefined();
    await browse(url as string);
    expect((await p.waitFor((m) => m.id === 0)).result?.serverInfo?.name).toBe('test-remote');
    expect(stored(s)).toHaveLength(1);
    expect(p.lines.join('\n')).not.toContain('open this URL');
  });

  it('a secret in the endpoint path is masked wherever the login resource is printed (login, logout, proxy error, start log, --check)', async () => {
    const secret = 'a8f3k2j4h5g6f7d8s9a0q1w2e3r4t5y6';
    const s = await setup({}, { mcpPath: `/mcp/${secret}` });
    const run = login(s, ['--no-browser', '--debug']);
    const authorizationUrl = await run.url;
    await browse(authorizationUrl);
    const l = await run.done;
    expect(l.code, l.stderr).toBe(0);
    expect(stored(s)[0]?.resource).toBe(s.mcp.url);
    // The authorization URL is for the person's browser and must carry the resource (RFC 8707).
    const printed = [l.stdout, l.stderr.split(authorizationUrl).join('')];

    const check = spawnRaw({ MCP_ENDPOINT: s.mcp.url, XDG_CONFIG_HOME: s.config }, ['--check', '--signer', 'oauth-login']);
    cleanups.push(() => void check.child.kill('SIGKILL'));
    await check.exited;
    printed.push(check.lines.join('\n'), check.stderr());

    const out = spawnSync(process.execPath, [BIN, 'logout', s.mcp.url], { env: hermeticEnv({ XDG_CONFIG_HOME: s.config }), encoding: 'utf8' });
    expect(out.stdout).toMatch(/removed the stored login/);
    printed.push(out.stdout, out.stderr);

    const p = proxy(s, {}, ['--signer', 'oauth-login']);
    p.send(INIT);
    const err = await p.waitFor((m) => m.id === 0);
    expect(err.error?.message).toMatch(/no OAuth login is stored for http:\/\/127\.0\.0\.1:\d+\/mcp\/…/);
    p.child.stdin.end();
    await p.exited;
    printed.push(p.lines.join('\n'), p.stderr());
    expect(p.stderr()).toContain('/mcp/…');
    for (const text of printed) expect(text).not.toContain(secret);
  });
});

describe('--check with a browser login (README "Diagnosing: --check")', () => {
  async function check(s: Setup, env: Record<string, string> = {}, args: string[] = []): Promise<{ code: number | null; out: string; err: string }> {
    const p = proxy(s, { MCP_LOG_LEVEL: 'info', ...env }, ['--check', ...args]);
    const exit = await p.exited;
    return { code: exit.code, out: p.lines.join('\n'), err: p.stderr() };
  }
  const line = (out: string, id: string) => out.split('\n').find((l) => l.startsWith(`✓ ${id}: `) || l.startsWith(`✗ ${id}: `) || l.startsWith(`! ${id}: `)) ?? `(no ${id} line in:\n${out})`;

  it('a stored login: issuer, resource, scope, expiry and whether a refresh token is stored, never a token', async () => {
    const s = await setup({ expiresIn: 1800 });
    await loggedIn(s);
    const { code, out, err } = await check(s);
    expect(code, out + err).toBe(0);
    expect(line(out, 'configuration')).toMatch(/^✓ configuration: signer oauth-login/);
    expect(line(out, 'credentials')).toMatch(new RegExp(`^✓ credentials: oauth-login token from ${s.as.issuer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, expires \\S+ \\(in (29|30) min\\)$`));
    expect(out).toContain(`    issuer: ${s.as.issuer}\n`);
    expect(out).toContain(`    resource: ${s.mcp.url}\n`);
    expect(out).toContain('    scope: mcp:read mcp:write\n');
    expect(out).toMatch(/^ {4}expiresAt: \d{4}-\d\d-\d\dT/m);
    expect(out).toContain('    refreshToken: stored\n');
    expect(out).toContain('    registration: dynamic\n');
    expect(line(out, 'mcp')).toMatch(/^✓ mcp: test-remote/);
    for (const secret of issuedSecrets(s)) expect(out + err).not.toContain(secret);

    const json = await check(s, {}, ['--json']);
    const credentials = JSON.parse(json.out).stages.find((st: { id: string }) => st.id === 'credentials');
    expect(credentials).toMatchObject({ status: 'ok', details: { issuer: s.as.issuer, resource: s.mcp.url, refreshToken: 'stored' } });
    for (const secret of issuedSecrets(s)) expect(json.out + json.err).not.toContain(secret);
  });

  it('no stored login: the credentials stage fails with the login command as its fix', async () => {
    const s = await setup();
    const { code, out } = await check(s, { MCP_OAUTH_CLIENT_ID: 'cli-public' }, ['--signer', 'oauth-login']);
    expect(code).toBe(1);
    expect(line(out, 'credentials')).toBe(`✗ credentials: oauth-login: no OAuth login is stored for ${s.mcp.url}`);
    expect(out).toContain(`    fix: run: mcp-signing-proxy login ${s.mcp.url} --oauth-client-id cli-public\n`);
    expect(s.as.authorizations).toHaveLength(0);
  });

  it('no stored login and the server unreachable: the credentials stage still says to log in', async () => {
    const s = await setup();
    const url = `http://127.0.0.1:${await closedPort()}/mcp`;
    const { code, out } = await check(s, { MCP_ENDPOINT: url }, ['--signer', 'oauth-login']);
    expect(code).toBe(1);
    expect(line(out, 'credentials')).toBe(`✗ credentials: oauth-login: no OAuth login is stored for ${url}`);
    expect(out).toContain(`    fix: run: mcp-signing-proxy login ${url}\n`);
    expect(line(out, 'tcp')).toMatch(/^✗ tcp: .*refused/);
  });
});
