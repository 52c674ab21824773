import { describe, expect, it } from 'vitest';
import { ProxyError } from '../../src/errors.js';
import { serializeError } from '../../src/logging/logger.js';
import { maskTokenLike, safeUrl } from '../../src/logging/safe-url.js';

describe('safeUrl', () => {
  it.each([
    ['https://mcp.example.com/mcp?key=CANARY123', 'https://mcp.example.com/mcp?…'],
    ['https://mcp.example.com/s/a1B2c3D4e5F6g7H8i9J0k1L2/mcp', 'https://mcp.example.com/s/…/mcp'],
    ['https://h.example/t/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig123abc/mcp', 'https://h.example/t/…/mcp'],
    ['https://h.example/mcp;token=CANARY999', 'https://h.example/mcp;…'],
    ['https://abc123.execute-api.eu-west-1.amazonaws.com/prod/mcp', 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/mcp'],
    ['https://bedrock-agentcore.us-west-2.amazonaws.com/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aus-west-2%3A123456789012%3Aruntime%2Fmy_agent-abc123/invocations', 'https://bedrock-agentcore.us-west-2.amazonaws.com/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aus-west-2%3A123456789012%3Aruntime%2Fmy_agent-abc123/invocations'],
  ])('%s', (url, expected) => {
    expect(safeUrl(new URL(url))).toBe(expected);
  });
  it('keeps ordinary words', () => {
    expect(maskTokenLike('x-api-key')).toBe('x-api-key');
    expect(maskTokenLike('ghp_16C7e42F292c6912E7710c838347Ae178B4a')).toBe('…');
  });
});

describe('serializeError', () => {
  it('writes only the safe fields of our errors, and name/code of others', () => {
    const ours = new ProxyError('ESP_X', 'safe message', { hint: 'do this', cause: new Error('CANARYCAUSE') });
    expect(JSON.stringify(serializeError(ours))).not.toContain('CANARY');
    expect(serializeError(ours)).toMatchObject({ code: 'ESP_X', message: 'safe message', hint: 'do this' });
    const foreign = Object.assign(new Error('token CANARYFOREIGN'), { code: 'EFOO', request: { headers: { authorization: 'CANARYAUTH' } } });
    expect(serializeError(foreign)).toEqual({ type: 'Error', code: 'EFOO' });
  });
});
