import { describe, expect, it } from 'vitest';
import { renderText } from '../../src/check/report.js';

describe('renderText', () => {
  it('shows control characters of server-supplied text as U+FFFD: no escape sequence, no forged line', () => {
    const text = renderText({
      version: '0.0.0',
      endpoint: 'https://h/mcp',
      stages: [
        { id: 'mcp', status: 'ok', summary: 'evil\u001b[2J\u001b]0;title\u0007 1.0.0\r\n✓ verdict: forged', details: { tools: ['a\u009bb', 'c\u0000d'] } },
        { id: 'credentials', status: 'warn', summary: 'scope "x\u007f"', fix: 'run\rthis' },
      ],
    });
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(text.split('\n').filter((l) => /^. verdict: /.test(l))).toEqual(['! verdict: a host with these settings connects; see the warnings (credentials)']);
    expect(text).toContain('✓ mcp: evil\ufffd[2J\ufffd]0;title\ufffd 1.0.0\ufffd\ufffd✓ verdict: forged');
    expect(text).toContain('    tools: a\ufffdb, c\ufffdd');
    expect(text).toContain('    fix: run\ufffdthis');
  });
});
