import { ConfigError } from '../errors.js';
import { signerHeaderProblem, type SignerKind } from '../signers/registry.js';

/** [lower-cased name, value] */
export type HeaderPair = readonly [string, string];

// https://www.rfc-editor.org/rfc/rfc9110#section-5.6.2 token characters.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Expands ${VAR} and ${VAR:-default} from the environment (the Claude Code / mcp-remote
 * convention). An unset variable without a default is an error: sending an empty
 * credential is never what the user meant.
 */
export function expandVars(value: string, source: string, env: Readonly<Record<string, string | undefined>>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, fallback: string | undefined) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    throw new ConfigError(`${source} refers to \${${name}}, which is not set`, `set ${name} in the server's env, or write \${${name}:-default}`);
  });
}

/**
 * Parses "Name: value" lines (or "Name=value" when there is no colon, as
 * aws/mcp-proxy-for-aws writes them). Blank lines and #-comments are skipped.
 * Values are never echoed in errors: they are usually secrets.
 */
export function parseHeaderLines(lines: readonly string[], source: string, env: Readonly<Record<string, string | undefined>>): HeaderPair[] {
  const out: HeaderPair[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    // Whichever separator comes first: "A: x=y" and "A=https://b" both split right.
    const seps = [line.indexOf(':'), line.indexOf('=')].filter((i) => i > 0);
    const sep = seps.length === 0 ? -1 : Math.min(...seps);
    if (sep <= 0) {
      throw new ConfigError(`${source} entry is not "Name: value"`, 'write each header as "Name: value"');
    }
    const name = line.slice(0, sep).trim();
    if (!TOKEN.test(name)) {
      // The text is not quoted: a mistyped entry may be a secret ("X-Api-Key abc…").
      throw new ConfigError(`${source} has an entry whose header name is not valid`, 'write each header as "Name: value"; names are letters, digits and -_ (RFC 9110 token)');
    }
    const value = expandVars(line.slice(sep + 1).trim(), `${source} header "${name}"`, env);
    if (/[\r\n\0]/.test(value)) {
      throw new ConfigError(`${source} header "${name}" has a line break or NUL in its value`, 'remove control characters from the value');
    }
    out.push([name.toLowerCase(), value]);
  }
  return out;
}

/** Headers the relay or the HTTP stack own; a user value would break framing or sessions. */
const RESERVED_HEADERS = new Set([
  'host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te',
  'accept', 'mcp-session-id', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'last-event-id',
]);

/**
 * Why a user-supplied header (static or from the headers helper) may not be sent, if it may
 * not. Only the lower-cased name is looked at; values never appear in messages.
 */
export function headerProblem(name: string, signer: SignerKind): { message: string; hint: string } | undefined {
  if (RESERVED_HEADERS.has(name)) return { message: `header "${name}" is managed by the proxy`, hint: `remove the "${name}" header` };
  return signerHeaderProblem(name, signer);
}

/** A header name is an RFC 9110 token. */
export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}
