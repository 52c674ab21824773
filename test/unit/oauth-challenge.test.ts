import { describe, expect, it } from 'vitest';
import { challengeParam } from '../../src/signers/oauth/challenge.js';

describe('challengeParam (WWW-Authenticate: Bearer …)', () => {
  it('reads quoted and token parameters in any order, after another scheme too', () => {
    const h = 'Bearer error="invalid_token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope=mcp:read';
    expect(challengeParam(h, 'resource_metadata')).toBe('https://mcp.example.com/.well-known/oauth-protected-resource/mcp');
    expect(challengeParam(h, 'error')).toBe('invalid_token');
    expect(challengeParam(h, 'scope')).toBe('mcp:read');
    expect(challengeParam('Basic realm="x", Bearer resource_metadata="https://a.example/m"', 'resource_metadata')).toBe('https://a.example/m');
    expect(challengeParam('Bearer realm="a \\"b\\""', 'realm')).toBe('a "b"');
  });
  it('ignores other schemes and absent parameters', () => {
    expect(challengeParam('Basic realm="x", resource_metadata="https://a.example/m"', 'resource_metadata')).toBeUndefined();
    expect(challengeParam('Bearer realm="x"', 'error')).toBeUndefined();
    expect(challengeParam(undefined, 'error')).toBeUndefined();
  });
});
