import { ENV_ONLY, GROUPS, SETTINGS, type Setting } from './args.js';

const WIDTH = 80;
const GAP = 2;
const INDENT = '  ';

const EXAMPLES = [
  ['check a bearer-token server by hand', 'MCP_BEARER_TOKEN=... mcp-signing-proxy https://mcp.example.com/mcp --check'],
  ['API Gateway with IAM auth, an AWS profile', 'mcp-signing-proxy --profile dev \\', '  https://abc123.execute-api.eu-west-1.amazonaws.com/prod/mcp'],
  ['assume a role first', 'ASSUME_ROLE_ARN=arn:aws:iam::123456789012:role/mcp AWS_PROFILE=dev \\', '  mcp-signing-proxy URL'],
  ['a static header from the environment', 'mcp-signing-proxy URL -H "X-Api-Key: ${API_KEY}"'],
  ['mTLS with a private CA', 'mcp-signing-proxy URL --client-cert c.pem --client-key k.pem --ca-cert ca.pem'],
  ['register with Claude Code', 'claude mcp add tickets --env MCP_ENDPOINT=URL -- npx -y mcp-signing-proxy'],
] as const;

function label(s: Setting): string {
  const flag = `${s.short ? `-${s.short}, ` : ''}--${s.name}`;
  return s.value === undefined ? flag : `${flag} ${s.value}`;
}

/** Words of `text` in lines of at most `width` characters (a longer word gets its own line). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

interface Entry {
  readonly label: string;
  readonly text: string;
  readonly env?: string;
}

function entries(group: string): Entry[] {
  const out: Entry[] = [];
  for (const s of SETTINGS as readonly Setting[]) {
    if (s.group !== group || s.hidden) continue;
    const text = s.help + (s.default === undefined ? '' : ` (default: ${s.default})`);
    out.push({ label: label(s), text, ...(s.env && { env: `env: ${s.env.join(', ')}` }) });
  }
  for (const e of ENV_ONLY) if (e.group === group) out.push({ label: e.env, text: e.help, env: 'env only, no flag' });
  return out;
}

/**
 * The `--help` text, generated from the settings table so flags, variables and help cannot
 * drift apart. The description column starts where the longest flag label ends.
 */
export function renderHelp(width = WIDTH): string {
  const all = GROUPS.flatMap((g) => entries(g));
  const column = INDENT.length + Math.max(...all.map((e) => e.label.length)) + GAP;
  const pad = ' '.repeat(column);
  const out = [
    'mcp-signing-proxy: a local stdio MCP server that relays to a remote MCP server',
    'over Streamable HTTP and signs every request.',
    '',
    'Usage: mcp-signing-proxy [URL] [flags]   (or set MCP_ENDPOINT instead of URL)',
    '       mcp-signing-proxy login [URL] [flags]    log in (OAuth, in a browser)',
    '       mcp-signing-proxy logout [URL] [flags]   remove that login',
  ];
  for (const group of GROUPS) {
    out.push('', group);
    for (const e of entries(group)) {
      const [first = '', ...rest] = [...wrap(e.text, width - column), ...(e.env === undefined ? [] : wrap(e.env, width - column))];
      out.push((INDENT + e.label).padEnd(column) + first, ...rest.map((l) => pad + l));
    }
  }
  out.push('', 'Examples');
  for (const [what, ...command] of EXAMPLES) out.push(`${INDENT}# ${what}`, ...command.map((l) => INDENT + l));
  out.push(
    '',
    'Flags win over environment variables. Secrets are taken from the environment or',
    'files only, never from flags. Docs: README.md in the package.',
    '',
  );
  return out.join('\n');
}

export const HELP = renderHelp();
