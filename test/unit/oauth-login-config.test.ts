import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/config/args.js';
import { normalizeConfig } from '../../src/config/config.js';
import { findLogin, removeLogins, saveLogin, tokenStorePath, updateLogin, type StoredLogin } from '../../src/signers/oauth/token-store.js';

const URL_ = 'https://mcp.example.com/mcp';
const cfg = (argv: string[], env: Record<string, string> = {}) => normalizeConfig(parseCliArgs(argv), env);
const never = () => {
  throw new Error('the lock must be available');
};

function login(over: Partial<StoredLogin> = {}): StoredLogin {
  return {
    issuer: 'https://as.example.com',
    resource: URL_,
    configuredClientId: null,
    clientId: 'dcr-1',
    registration: 'dynamic',
    tokenEndpoint: 'https://as.example.com/token',
    accessToken: 'at-Zq8mXv31AccessValue',
    expiresAt: Date.now() + 3_600_000,
    refreshToken: 'rt-Zq8mXv31RefreshValue',
    scope: 'mcp:read',
    savedAt: Date.now(),
    ...over,
  };
}

async function storeWith(...logins: StoredLogin[]): Promise<{ env: Record<string, string>; path: string }> {
  const env = { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'msp-xdg-')) };
  const path = tokenStorePath(env) as string;
  for (const l of logins) await saveLogin(path, l, never);
  return { env, path };
}

describe('oauth-login: auto-selection from the stored login', () => {
  it('picks oauth-login when a login is stored for the endpoint (and the same --oauth-client-id), keeps client credentials for an id with a secret', async () => {
    const { env } = await storeWith(login(), login({ configuredClientId: 'cli-1', clientId: 'cli-1', registration: 'pre-registered' }));
    expect(cfg([URL_], env).signer).toBe('oauth-login');
    expect(cfg([`${URL_}?tenant=a`], env).signer).toBe('oauth-login');
    expect(cfg(['https://mcp.example.com/other'], env).signer).toBe('none');
    expect(cfg([URL_, '--oauth-client-id', 'cli-1'], env).auth).toMatchObject({ kind: 'oauth-login', clientId: 'cli-1' });
    expect(cfg([URL_, '--oauth-client-id', 'cli-2'], env).signer).toBe('none');
    expect(cfg([URL_], { ...env, MCP_OAUTH_CLIENT_ID: 'cli-1', MCP_OAUTH_CLIENT_SECRET: 'cs-Zq8mXv31Secret' }).signer).toBe('oauth-client-credentials');
    expect(cfg([URL_], { ...env, MCP_BEARER_TOKEN: 'tok-123456' }).signer).toBe('bearer');
    expect(cfg([URL_], {}).signer).toBe('none');
  });

  it('checks its settings and names the flag', () => {
    expect(() => cfg([URL_, '--oauth-client-metadata-url', 'http://client.example.com/c.json'])).toThrow(/--oauth-client-metadata-url.*not https/);
    expect(() => cfg([URL_, '--oauth-client-metadata-url', 'https://client.example.com/'])).toThrow(/https URL with a path/);
    expect(() => cfg([URL_, '--oauth-interactive', '--oauth-login-timeout', '0'])).toThrow(/--oauth-login-timeout/);
    expect(() => cfg([URL_, '--oauth-interactive'], { MCP_BEARER_TOKEN: 'tok-123456' })).toThrow(/Authorization/);
    expect(() => cfg([URL_, '--signer', 'oauth-login'], { MCP_OAUTH_CLIENT_ID: 'x', MCP_OAUTH_CLIENT_SECRET: 'cs-Zq8mXv31Secret' })).toThrow(/OAuth client credentials and the oauth-login signer/);
    expect(cfg([URL_, '--oauth-interactive', '--no-browser'], { HOME: '/home/u' }).auth).toMatchObject({
      kind: 'oauth-login',
      interactive: true,
      openBrowser: false,
      timeoutMs: 300_000,
      storePath: '/home/u/.config/mcp-signing-proxy/oauth-tokens.json',
    });
    expect(cfg([URL_, '--signer', 'oauth-login'], { MCP_OAUTH_INTERACTIVE: '1', MCP_OAUTH_NO_BROWSER: 'true' }).auth).toMatchObject({ interactive: true, openBrowser: false });
  });
});

describe('the token store', () => {
  it('writes 0600 in a 0700 directory, keeps logins apart by client id, removes only the matching ones', async () => {
    const { path } = await storeWith(login(), login({ configuredClientId: 'cli-1' }));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect((await findLogin(path, URL_, 'cli-1'))?.configuredClientId).toBe('cli-1');
    expect(await removeLogins(path, URL_, undefined, never)).toHaveLength(1);
    expect(await findLogin(path, URL_, undefined)).toBeUndefined();
    expect(await findLogin(path, URL_, 'cli-1')).toBeDefined();
  });

  it('updates under the lock from the newest stored login; an unreadable file counts as empty', async () => {
    const { path } = await storeWith(login());
    const next = await updateLogin(path, URL_, undefined, async (current) => current && { ...current, refreshToken: 'rt-rotated-123456', savedAt: current.savedAt + 1 }, never);
    expect(next?.refreshToken).toBe('rt-rotated-123456');
    expect((await findLogin(path, URL_, undefined))?.refreshToken).toBe('rt-rotated-123456');
    expect(JSON.parse(readFileSync(path, 'utf8')).version).toBe(1);
    writeFileSync(path, '{not json');
    expect(await findLogin(path, URL_, undefined)).toBeUndefined();
  });
});
