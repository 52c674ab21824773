import { describe, expect, it } from 'vitest';
import { parseHelperOutput } from '../../src/signers/headers-helper.js';

describe('parseHelperOutput', () => {
  it('reads a JSON object (Claude Code headersHelper format) and lower-cases names', () => {
    expect(parseHelperOutput('{"X-Api-Key":"k1","X-Tenant":42}\n', 'none')).toEqual({ 'x-api-key': 'k1', 'x-tenant': '42' });
  });
  it('reads "Name: value" lines', () => {
    expect(parseHelperOutput('Authorization: Bearer abc\r\nX-Team: core\n\n', 'none')).toEqual({ authorization: 'Bearer abc', 'x-team': 'core' });
  });
  it.each([
    ['broken JSON', '{"a":', 'not'],
    ['a bad name', '{"Bad Name":"SECRETVALUE1"}', 'name'],
    ['a non-text value', '{"X-A":{"nested":"SECRETVALUE1"}}', 'non-text'],
    ['a reserved header', '{"Host":"SECRETVALUE1"}', 'managed by the proxy'],
    ['a line that is not a header', 'SECRETVALUE1', 'Name: value'],
  ])('refuses %s without quoting values', (_n, text, expected) => {
    let message = '';
    try {
      parseHelperOutput(text, 'none');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(expected);
    expect(message).not.toContain('SECRETVALUE1');
  });
  it('refuses authorization when SigV4 or bearer owns it', () => {
    expect(() => parseHelperOutput('{"Authorization":"x"}', 'sigv4')).toThrow(/authorization/);
    expect(() => parseHelperOutput('{"X-Amz-Date":"x"}', 'sigv4')).toThrow(/SigV4/);
  });
});
