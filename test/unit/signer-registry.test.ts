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
