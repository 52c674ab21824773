import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_ONLY, parseCliArgs, SETTINGS, type Setting } from '../../src/config/args.js';
import { HELP, renderHelp } from '../../src/config/help.js';

const lines = HELP.split('\n');
/** The flag and variable lines: from the first section header to "Examples". */
const table = lines.slice(lines.indexOf('Endpoint and signer') + 1, lines.indexOf('Examples'));
const entryLines = table.filter((l) => l.startsWith('  '));

describe('--help is generated from the settings table', () => {
  it('lists every flag with its short form, value and environment variables', () => {
    for (const s of SETTINGS as readonly Setting[]) {
      if (s.hidden) continue;
      expect(HELP).toContain(`${s.short ? `-${s.short}, ` : ''}--${s.name}${s.value ? ` ${s.value}` : ''}`);
      for (const v of s.env ?? []) expect(HELP).toContain(v);
    }
    for (const e of ENV_ONLY) expect(HELP).toContain(e.env);
    expect(HELP).toContain('MCP_INSECURE=1');
  });

  it('names every variable normalizeConfig reads', () => {
    const source = readFileSync(join(import.meta.dirname, '../../src/config/config.ts'), 'utf8');
    const read = new Set([...source.matchAll(/env\(e, '([A-Z0-9_]+)'\)|\be\.([A-Z0-9_]+)/g)].map((m) => (m[1] ?? m[2]) as string));
    // USER and USERNAME name the OS user for the default session name; they are not settings.
    read.delete('USER');
    read.delete('USERNAME');
    expect(read.size).toBeGreaterThan(20);
    for (const name of read) expect(HELP, name).toMatch(new RegExp(`\\b${name}\\b`));
  });

  it('every flag it lists is accepted', () => {
    for (const [, flag] of HELP.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)/gm)) {
      const s = (SETTINGS as readonly Setting[]).find((x) => `--${x.name}` === flag);
      expect(s, flag).toBeDefined();
      expect(() => parseCliArgs(s?.type === 'boolean' ? [flag as string] : [flag as string, 'x'])).not.toThrow();
    }
  });

  it('aligns the descriptions in one column and fits 80 columns', () => {
    const starts = entryLines.map((l) => {
      const label = /^ {2}\S+(?: \S+)*/.exec(l);
      // A continuation line has no label: its text starts after the indent.
      const rest = label && l.slice(label[0].length).startsWith('  ') ? l.slice(label[0].length) : undefined;
      return rest === undefined ? l.length - l.trimStart().length : label![0].length + rest.length - rest.trimStart().length;
    });
    expect(entryLines.length).toBeGreaterThan(40);
    expect(new Set(starts)).toEqual(new Set([starts[0]]));
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(renderHelp(120).split('\n').some((l) => l.length > 80)).toBe(true);
  });

  it('shows example invocations', () => {
    expect(HELP).toMatch(/Examples\n {2}# .+\n {2}(MCP_\w+=\S+ )?mcp-signing-proxy /);
  });
});

describe('-V and -v', () => {
  it('both mean --version', () => {
    expect(parseCliArgs(['-V']).version).toBe(true);
    expect(parseCliArgs(['-v']).version).toBe(true);
    expect(parseCliArgs([]).version).toBe(false);
  });
});
