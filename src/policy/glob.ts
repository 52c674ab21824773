/**
 * The globs of the policy lists (README "Least privilege"): `*` matches any run of
 * characters, `/` included; everything else is literal and case-sensitive. Nothing else is
 * a wildcard, so a character other glob dialects treat specially is refused in names rather
 * than silently taken literally.
 */

/** What a list holds: tool and prompt names, or resource URIs (where `?` and `{}` are literal). */
export type GlobKind = 'name' | 'uri';

// Whitespace and control characters never occur in a name or URI: a list holding one was
// mistyped (an unquoted space in a shell, a newline from a template).
const NEVER = /[\s\p{Cc}]/u;
const NAME_SYNTAX = /[?[\]{}!]/;

/** Why `pattern` is not a valid glob, or undefined. */
export function globProblem(pattern: string, kind: GlobKind): string | undefined {
  if (pattern === '') return 'it is empty';
  if (NEVER.test(pattern)) return 'it contains whitespace or a control character';
  const syntax = kind === 'name' ? NAME_SYNTAX.exec(pattern)?.[0] : undefined;
  if (syntax !== undefined) return `${syntax} is not a wildcard (only * is)`;
  return undefined;
}

/** Splits a comma-separated list into its trimmed entries (unvalidated). */
export function splitList(raw: string): string[] {
  return raw.split(',').map((p) => p.trim());
}

/** One test for a whole list: does any pattern match `value`? */
export function compileGlobs(patterns: readonly string[]): (value: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const wild = patterns.filter((p) => p.includes('*'));
  if (wild.length === 0) return (value) => exact.has(value);
  const escape = (s: string): string => s.replace(/[\\^$.|?+()[\]{}]/g, '\\$&');
  const re = new RegExp(`^(?:${wild.map((p) => p.split('*').map(escape).join('.*')).join('|')})$`, 's');
  return (value) => exact.has(value) || re.test(value);
}
