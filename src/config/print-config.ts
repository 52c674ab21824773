/**
 * `--print-config`: every setting on one line with its value and where it came from, so a
 * user sees which of flag, environment and config file won (README "Config file").
 * Secrets are masked: secret settings and header values entirely, the endpoint as the log
 * prints it, and any registered secret wherever it occurs.
 */
import { maskTokenLike, registerSecret, safeUrl, scrubSecrets } from '../logging/safe-url.js';
import type { Layered, ResolvedSetting } from './config-file.js';

const MASKED = '****';
const VALUE_COLUMN = 40;

function lines(value: string | readonly string[]): string[] {
  return (typeof value === 'string' ? value.split(/\r?\n/) : [...value]).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** Only the name: header values are usually credentials. */
function maskHeader(line: string): string {
  const sep = /[:=]/.exec(line);
  return sep === null ? MASKED : `${line.slice(0, sep.index).trim()}: ${MASKED}`;
}

// An option that names its value a secret: `--password x`, `-p=x`, `token=x`, `--api-key x`.
const SECRET_OPTION = /^-{0,2}[\w-]*(pass(word|phrase)?|secret|token|key|auth)[\w-]*$/i;

/**
 * A command line may carry a credential inline: key-like words, the value after an option
 * that names a secret, and `NAME=value` where NAME does, are masked.
 */
function maskCommand(text: string): string {
  const words = text.split(' ');
  return words
    .map((word, i) => {
      const eq = word.indexOf('=');
      if (eq > 0 && SECRET_OPTION.test(word.slice(0, eq))) return `${word.slice(0, eq)}=${MASKED}`;
      if (i > 0 && SECRET_OPTION.test(words[i - 1] as string) && (words[i - 1] as string).startsWith('-')) return MASKED;
      return maskTokenLike(word);
    })
    .join(' ');
}

function shown({ key, value }: ResolvedSetting): string {
  if (value === undefined) return '-';
  if (typeof value === 'boolean') return String(value);
  if (key.secret) return MASKED;
  if (key.name === 'header') return lines(value).map(maskHeader).join(', ');
  const text = typeof value === 'string' ? value : value.join(', ');
  if (key.name === 'endpoint') {
    try {
      return safeUrl(new URL(text));
    } catch {
      return '(not a URL)';
    }
  }
  if (key.name === 'headers-helper') return maskCommand(text);
  return text;
}

/** Every setting with its masked value and source; the secrets registered for masking first. */
export function maskedSettings(layered: Layered): Array<readonly [name: string, value: string, source: string]> {
  for (const s of layered.settings) if (s.key.secret && typeof s.value === 'string') registerSecret(s.value);
  return layered.settings.map((s) => [s.key.name, shown(s), s.source] as const);
}

export function renderConfig(layered: Layered): string {
  const rows = maskedSettings(layered);
  const nameWidth = Math.max(...rows.map(([name]) => name.length)) + 2;
  const valueWidth = Math.min(VALUE_COLUMN, Math.max(...rows.map(([, value]) => value.length))) + 2;
  const from = layered.file === undefined ? 'no config file' : `config ${layered.file.path}${layered.file.server === undefined ? '' : `, server ${layered.file.server}`}`;
  const out = [`# effective settings (${from}); precedence: flag, environment, server entry, defaults`];
  for (const [name, value, source] of rows) out.push(`${name.padEnd(nameWidth)}${value}${' '.repeat(Math.max(2, valueWidth - value.length))}${source}`);
  return `${scrubSecrets(out.join('\n'))}\n`;
}
