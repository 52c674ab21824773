import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseCliArgs, SETTINGS } from '../../src/config/args.js';
import { normalizeConfig } from '../../src/config/config.js';
import { SIGNER_KINDS, SIGNER_NAMES } from '../../src/signers/registry.js';

const cfg = (argv: string[], env: Record<string, string> = {}) => normalizeConfig(parseCliArgs(argv), env);

describe('signer registry', () => {
  it('the configuration holds sources of secrets, never their values', () => {
    const token = 'tok-Zq8mXv31SecretValue';
    const c = cfg(['https://x.example/mcp'], { MCP_BEARER_TOKEN: token });
    expect(c.auth.kind).toBe('bearer');
    expect(JSON.stringify(c)).not.toContain(token);
    expect(inspect(c, { depth: 10 })).not.toContain(token);
    expect(JSON.stringify(c.auth)).toContain('env MCP_BEARER_TOKEN');
  });
  it('every kind is a --signer value and registers its flags in the settings table', () => {
    for (const kind of SIGNER_KINDS) {
      expect(SIGNER_NAMES).toContain(kind.kind);
      for (const row of kind.settings) expect(SETTINGS.map((s) => s.name)).toContain(row.name);
    }
    expect(() => cfg(['https://x.example/mcp', '--signer', 'nope'])).toThrow(/--signer \/ MCP_SIGNER must be none, sigv4/);
  });
});

describe('oauth-client-credentials settings', () => {
  const url = 'https://mcp.example.com/mcp';
  const secret = { MCP_OAUTH_CLIENT_ID: 'svc', MCP_OAUTH_CLIENT_SECRET: 'cs-Zq8mXv31Secret' };
  it('is chosen automatically when a client id and a secret or key are set, not for an id alone', () => {
    expect(cfg([url], secret).signer).toBe('oauth-client-credentials');
    expect(cfg([url, '--oauth-client-id', 'svc', '--oauth-private-key-file', '/k.pem']).signer).toBe('oauth-client-credentials');
    expect(cfg([url], { MCP_OAUTH_CLIENT_ID: 'svc' }).signer).toBe('none');
    expect(JSON.stringify(cfg([url], secret))).not.toContain('cs-Zq8mXv31Secret');
  });
  it('refuses the secret on the command line, unclear combinations and unsafe token URLs, naming the setting', () => {
    expect(() => parseCliArgs([url, '--oauth-client-secret', 'x'])).toThrow(expect.objectContaining({ message: expect.stringMatching(/not accepted/), hint: expect.stringMatching(/MCP_OAUTH_CLIENT_SECRET/) }));
    expect(() => cfg([url, '--oauth-private-key-file', '/k.pem'], secret)).toThrow(/more than one/);
    expect(() => cfg([url, '--oauth-client-auth', 'jwt'], secret)).toThrow(/--oauth-client-auth must be basic or post/);
    expect(() => cfg([url, '--oauth-token-url', 'http://as.example.com/token'], secret)).toThrow(/--oauth-token-url.*not https/);
    expect(() => cfg([url, '--oauth-token-url', 'https://u:p@as.example.com/token'], secret)).toThrow(/user:password/);
    expect(() => cfg([url, '--signer', 'oauth-client-credentials'])).toThrow(/needs a client id/);
    expect(() => cfg([url], { ...secret, MCP_BEARER_TOKEN: 'tok-123456' })).toThrow(/Authorization/);
    expect(() => cfg([url, '-H', 'Authorization: x'], secret)).toThrow(/oauth-client-credentials signer/);
  });
});
