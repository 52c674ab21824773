/**
 * The config file (README "Config file"): named servers in one JSON file, so dev, staging
 * and prod settings sit side by side and a team can review them in its repository.
 *
 *   { "defaults": { … }, "servers": { "NAME": { … } } }
 *
 * Its keys are generated from the settings table (args.ts): every flag is a key under its
 * name without the dashes, plus the environment-only settings that have a `key`. The file
 * is layered below flags and the environment: flag › environment › the server's entry ›
 * defaults, the highest source replacing a value (lists are not merged). A value from the
 * file is handed to normalizeConfig as if it were a flag, but only when neither the flag
 * nor any of its variables is set, which keeps the environment above the file.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { camel, ENV_ONLY, SETTINGS, type CliArgs, type Setting } from './args.js';
import { closest } from './closest.js';
import { expandVars } from './headers.js';
import { scanEnvelope } from '../transport/envelope-scan.js';

type Env = Readonly<Record<string, string | undefined>>;
export type SettingValue = string | boolean | readonly string[];

/** One key of the file. */
export interface FileKey {
  readonly name: string;
  readonly kind: 'string' | 'boolean' | 'multiple' | 'list';
  /** Variables that set the same thing; any of them set beats the file. */
  readonly env: readonly string[];
  /** The CliArgs field a file value fills, or (environment-only settings) the variable. */
  readonly target: { readonly arg: string } | { readonly env: string };
  /** A file path: relative paths are taken from the config file's directory. */
  readonly path: boolean;
  /** A secret: only a ${VAR} reference is accepted in the file, and it is masked when printed. */
  readonly secret: boolean;
  readonly default: string | undefined;
}

const SECRET_NAME = /token|secret|password|passphrase/i;
/**
 * A key whose name says secret, except a setting naming where the secret is: the file that
 * holds it, or an endpoint URL (`oauth-token-url`).
 */
function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !name.endsWith('-file') && !name.endsWith('-url');
}

/** The config file's schema, generated from the settings table. */
export const FILE_KEYS: readonly FileKey[] = [
  ...(SETTINGS as readonly Setting[])
    .filter((s) => s.file !== false && !s.hidden)
    .map((s): FileKey => ({
      name: s.name,
      kind: s.type === 'boolean' ? 'boolean' : s.multiple ? 'multiple' : s.list ? 'list' : 'string',
      env: (s.env ?? []).map((v) => v.split('=')[0] as string),
      target: { arg: camel(s.name) },
      path: s.value === 'PATH' || s.value === 'FILE',
      secret: isSecretName(s.name),
      default: s.default,
    })),
  ...ENV_ONLY.flatMap((e): FileKey[] =>
    e.key === undefined ? [] : [{ name: e.key, kind: 'string', env: [e.env], target: { env: e.env }, path: false, secret: isSecretName(e.key), default: undefined }],
  ),
];
const BY_NAME = new Map(FILE_KEYS.map((k) => [k.name, k]));

/** Header values normalizeConfig expands itself (parseHeaderLines); expanding twice would re-read ${…} in a variable's value. */
const EXPANDED_LATER = new Set(['header']);

/** A pure ${VAR} reference: the only form a secret may take in the file. */
const VAR_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;
/** Header names that carry credentials; their values must come from ${VAR}. */
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie)$|key|token|secret|password|passphrase|auth/i;

const FILE_FLAG = '--config / MCP_PROXY_CONFIG';
const SERVER_FLAG = '--server / MCP_PROXY_SERVER';
const SHAPE = 'write the file as { "defaults": { … }, "servers": { "NAME": { … } } }';

type Entry = ReadonlyMap<string, unknown>;
interface ParsedFile {
  readonly defaults: Entry;
  readonly servers: ReadonlyMap<string, Entry>;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function didYouMean(word: string, candidates: readonly string[]): string {
  const best = closest(word, candidates);
  return best === undefined ? '' : `did you mean "${best}"? `;
}

/**
 * Where the file stops being JSON, as line and column, and nothing else: V8's message quotes
 * the text around the error, and the file may hold secrets. Our own validating scanner
 * gives the byte offset.
 */
function jsonProblem(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  let offset = bytes.length;
  try {
    scanEnvelope(bytes);
  } catch (err) {
    const at = /at byte (\d+)/.exec((err as Error).message);
    if (at !== null) offset = Number(at[1]);
  }
  const before = bytes.subarray(0, offset).toString('utf8').split('\n');
  return `at line ${before.length} column ${(before.at(-1) as string).length + 1}`;
}

function literalSecret(where: string, name: string): ConfigError {
  const fileKey = BY_NAME.has(`${name}-file`) ? `, or use "${name}-file" with a path` : '';
  const hint = /aws|access-key/i.test(name)
    ? 'AWS credentials come from a profile ("profile") or the AWS_* variables, never from this file'
    : `write "${name}": "\${VAR}" and set VAR in the server's env${fileKey}`;
  return new ConfigError(`${where} "${name}" holds a literal secret; secrets in the file must be a \${VAR} reference`, hint);
}

function checkValue(key: FileKey, value: unknown, where: string): void {
  if (value === null) return;
  const what = `${where} "${key.name}"`;
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  switch (key.kind) {
    case 'boolean':
      if (typeof value !== 'boolean') throw new ConfigError(`${what} must be true or false (a JSON boolean)`, `write "${key.name}": true`);
      return;
    case 'multiple':
    case 'list':
      if (typeof value !== 'string' && !strings(value)) throw new ConfigError(`${what} must be a string or an array of strings`, `write "${key.name}": ["…", "…"]`);
      break;
    case 'string':
      if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) {
        throw new ConfigError(`${what} must be a string${key.path ? ' (a path)' : ''}`, `write "${key.name}": "…"`);
      }
  }
  if (key.name === 'header') {
    for (const line of typeof value === 'string' ? [value] : (value as string[])) {
      const name = /^\s*([^:=]+)/.exec(line)?.[1]?.trim() ?? '';
      if (SECRET_HEADER.test(name) && !line.includes('${')) {
        throw new ConfigError(`${what} has a literal value for the credential header "${name}"`, `write "${name}: \${VAR}" and set VAR in the server's env, or use "header-file"`);
      }
    }
  }
}

function parseEntry(raw: unknown, where: string): Entry {
  if (!isObject(raw)) throw new ConfigError(`${where} must be a JSON object of settings`, SHAPE);
  const entry = new Map<string, unknown>();
  for (const [name, value] of Object.entries(raw)) {
    // Refused before the key is looked up: a literal secret is worse than a typo.
    if (isSecretName(name) && value !== null && !(typeof value === 'string' && VAR_REFERENCE.test(value))) throw literalSecret(where, name);
    const key = BY_NAME.get(name);
    if (key === undefined) {
      throw new ConfigError(
        `${where} has unknown key "${name}"`,
        `${didYouMean(name, [...BY_NAME.keys()])}keys are the flag names without the dashes (mcp-signing-proxy --help)`,
      );
    }
    checkValue(key, value, where);
    entry.set(name, value);
  }
  return entry;
}

/** Reads and validates the whole file: a typo in the prod entry is reported while using dev. */
export function loadConfigFile(path: string): ParsedFile {
  const label = `${FILE_FLAG} file ${path}`;
  let text: string;
  try {
    // A BOM (some Windows editors write one) is not part of the JSON.
    text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    throw new ConfigError(`${label} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'check the path and its permissions');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`${label} is not valid JSON (${jsonProblem(text)})`, 'fix the JSON; comments and trailing commas are not allowed');
  }
  if (!isObject(json)) throw new ConfigError(`${label} is not a JSON object`, SHAPE);
  for (const name of Object.keys(json)) {
    if (name !== 'defaults' && name !== 'servers') throw new ConfigError(`${label} has unknown key "${name}"`, `${didYouMean(name, ['defaults', 'servers'])}${SHAPE}`);
  }
  const defaults = json.defaults === undefined ? new Map() : parseEntry(json.defaults, `${label} defaults`);
  if (json.servers !== undefined && !isObject(json.servers)) throw new ConfigError(`${label} "servers" must be an object of named entries`, SHAPE);
  const servers = new Map(Object.entries(json.servers ?? {}).map(([name, entry]) => [name, parseEntry(entry, `${label} servers.${name}`)] as const));
  return { defaults, servers };
}

export interface ResolvedSetting {
  readonly key: FileKey;
  /** undefined: not set anywhere and no default. */
  readonly value: SettingValue | undefined;
  /** flag, env VAR, config server NAME, config defaults, default or unset. */
  readonly source: string;
}

export interface Layered {
  /** The flags, with the file's values filled in where neither flag nor variable is set. */
  readonly args: CliArgs;
  /** The environment, with the file's environment-only settings where the variable is unset. */
  readonly env: Env;
  /** Every file key in table order, with its effective value and source (--print-config). */
  readonly settings: readonly ResolvedSetting[];
  readonly file: { readonly path: string; readonly server: string | undefined } | undefined;
}

function flagValue(key: FileKey, args: CliArgs): SettingValue | undefined {
  if (!('arg' in key.target)) return undefined;
  const v = (args as unknown as Record<string, unknown>)[key.target.arg];
  if (v === false || v === undefined || (Array.isArray(v) && v.length === 0)) return undefined;
  return v as SettingValue;
}

/** A file value as normalizeConfig reads it, ${VAR}s expanded and paths resolved. */
function fromFile(key: FileKey, raw: unknown, where: string, configPath: string, env: Env): SettingValue {
  if (typeof raw === 'boolean') return raw;
  const expand = (s: string): string => {
    const v = EXPANDED_LATER.has(key.name) ? s : expandVars(s, `${where} "${key.name}"`, env);
    return key.path && v !== '' && !isAbsolute(v) ? resolve(dirname(configPath), v) : v;
  };
  const items = (Array.isArray(raw) ? raw : [String(raw)]).map(expand);
  if (key.kind === 'multiple') return items;
  return items.join(',');
}

function selectServer(file: ParsedFile, server: string | undefined, path: string): Entry | undefined {
  const names = [...file.servers.keys()];
  if (server === undefined) {
    if (names.length === 0) return undefined;
    throw new ConfigError(`${FILE_FLAG} file ${path} has servers, but ${SERVER_FLAG} is not set`, `add --server NAME, one of: ${names.join(', ')}`);
  }
  const entry = file.servers.get(server);
  if (entry === undefined) {
    throw new ConfigError(
      `${SERVER_FLAG} "${server}" is not in ${path}`,
      names.length === 0 ? 'add it under "servers" in the file' : `${didYouMean(server, names)}servers in the file: ${names.join(', ')}`,
    );
  }
  return entry;
}

/**
 * Applies --config / --server (if given) below the flags and the environment, and reports
 * the source of every setting. Without a config file it only reports sources.
 */
/**
 * Variables that set the same thing another way: one of them set in the environment beats
 * the file's value too (a token beats a token file, the Claude Code fallbacks and PEM files
 * beat a PFX), or the environment would lose to the file.
 */
const RIVALS: Readonly<Record<string, readonly string[]>> = {
  'bearer-token': ['MCP_BEARER_TOKEN_FILE'],
  'bearer-token-file': ['MCP_BEARER_TOKEN'],
  'client-cert': ['CLAUDE_CODE_CLIENT_CERT', 'MCP_CLIENT_PFX'],
  'client-key': ['CLAUDE_CODE_CLIENT_KEY', 'MCP_CLIENT_PFX'],
  'client-pfx': ['MCP_CLIENT_CERT', 'MCP_CLIENT_KEY', 'CLAUDE_CODE_CLIENT_CERT', 'CLAUDE_CODE_CLIENT_KEY'],
  'client-key-passphrase': ['CLAUDE_CODE_CLIENT_KEY_PASSPHRASE'],
};

export function applyConfigFile(args: CliArgs, env: Env): Layered {
  const path = args.config ?? nonEmpty(env.MCP_PROXY_CONFIG);
  const server = args.server ?? nonEmpty(env.MCP_PROXY_SERVER);
  if (path === undefined && server !== undefined) throw new ConfigError(`${SERVER_FLAG} needs a config file`, 'add --config FILE or set MCP_PROXY_CONFIG');
  const absolute = path === undefined ? undefined : resolve(path);
  const file = absolute === undefined ? undefined : loadConfigFile(absolute);
  const serverEntry = file === undefined || absolute === undefined ? undefined : selectServer(file, server, absolute);

  const outArgs: Record<string, unknown> = { ...args };
  const outEnv: Record<string, string | undefined> = { ...env };
  const settings: ResolvedSetting[] = [];
  for (const key of FILE_KEYS) {
    const flag = flagValue(key, args);
    const envName = key.env.find((n) => nonEmpty(env[n]) !== undefined);
    const rival = RIVALS[key.name]?.find((n) => nonEmpty(env[n]) !== undefined);
    let resolved: ResolvedSetting;
    if (flag !== undefined) resolved = { key, value: flag, source: 'flag' };
    else if (envName !== undefined) resolved = { key, value: env[envName] as string, source: `env ${envName}` };
    else if (rival !== undefined) resolved = { key, value: undefined, source: `unset (env ${rival} wins)` };
    else {
      // A server's null unsets the defaults' value.
      const [raw, source, where] =
        serverEntry?.has(key.name) === true
          ? [serverEntry.get(key.name), `config server ${server}`, `${FILE_FLAG} file ${absolute} servers.${server}`]
          : [file?.defaults.get(key.name), 'config defaults', `${FILE_FLAG} file ${absolute} defaults`];
      if (raw !== undefined && raw !== null) {
        const value = fromFile(key, raw, where, absolute as string, env);
        if ('arg' in key.target) outArgs[key.target.arg] = value;
        else outEnv[key.target.env] = value as string;
        resolved = { key, value, source };
      } else if (key.default !== undefined) resolved = { key, value: key.default, source: 'default' };
      else if (key.kind === 'boolean') resolved = { key, value: false, source: 'default' };
      else resolved = { key, value: undefined, source: 'unset' };
    }
    settings.push(resolved);
  }
  return { args: outArgs as CliArgs, env: outEnv, settings, file: absolute === undefined ? undefined : { path: absolute, server } };
}
