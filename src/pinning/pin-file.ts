/**
 * The tool pin file (README "Tool pinning"): JSON, 0600, shared by every proxy process and
 * endpoint that names it.
 *
 *   { "version": 1, "endpoints": { "<endpoint>": { "<tool>": Pin } } }
 *
 * A Pin holds the SHA-256 of the tool's description, input schema and annotations as
 * accepted, and, while a change waits for acceptance, the digests last seen (`pending`).
 * Writers never corrupt it: each write re-reads the file under a lock, applies its own
 * changes and replaces the file by rename, so a reader sees the old or the new file whole.
 */
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/audit-record.js';
import { ConfigError } from '../errors.js';
import { withFileLock } from '../file-lock.js';

export const PARTS = ['description', 'inputSchema', 'annotations'] as const;
export type Part = (typeof PARTS)[number];
export type Digests = Readonly<Record<Part, string>>;

export interface Pin {
  /** What was accepted; absent for a tool first seen after the endpoint had pins. */
  readonly accepted?: Digests;
  /** What the server lists now, when it differs from `accepted`. */
  readonly pending?: Digests & { readonly seen: string };
}

export type EndpointPins = Record<string, Pin>;
interface PinFile {
  version: 1;
  endpoints: Record<string, EndpointPins>;
}

const FLAG = '--pin-tools / MCP_PIN_TOOLS';

export function digestsOf(tool: Record<string, unknown>): Digests {
  const d = (v: unknown) => createHash('sha256').update(canonicalJson(v ?? null)).digest('hex');
  return { description: d(tool.description), inputSchema: d(tool.inputSchema), annotations: d(tool.annotations) };
}

export function changedParts(a: Digests, b: Digests): Part[] {
  return PARTS.filter((p) => a[p] !== b[p]);
}

function isDigests(v: unknown): v is Digests {
  return typeof v === 'object' && v !== null && PARTS.every((p) => typeof (v as Record<string, unknown>)[p] === 'string');
}

function parse(text: string, path: string): PinFile {
  const corrupt = (why: string) => new ConfigError(`${FLAG} ${path} is not a pin file: ${why}`, `fix or delete it (deleting it re-pins every tool as the servers list them next)`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt('not valid JSON');
  }
  const file = value as PinFile;
  if (typeof value !== 'object' || value === null || file.version !== 1 || typeof file.endpoints !== 'object' || file.endpoints === null) throw corrupt('expected { "version": 1, "endpoints": { … } }');
  for (const [endpoint, tools] of Object.entries(file.endpoints)) {
    if (typeof tools !== 'object' || tools === null) throw corrupt(`the entry of ${endpoint} is not an object`);
    for (const [name, pin] of Object.entries(tools)) {
      const ok = typeof pin === 'object' && pin !== null && (pin.accepted === undefined || isDigests(pin.accepted)) && (pin.pending === undefined || isDigests(pin.pending)) && (pin.accepted ?? pin.pending) !== undefined;
      if (!ok) throw corrupt(`tool "${name}" of ${endpoint} has no valid digests`);
    }
  }
  return file;
}

/** Start-up: the endpoint's pins; a missing file is created (0600) so that it is known to be writable. */
export function loadPins(path: string, endpoint: string): EndpointPins {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new ConfigError(`${FLAG} ${path} cannot be read (${code ?? 'error'})`, 'check the path and its permissions');
    try {
      writeFileSync(path, `${JSON.stringify({ version: 1, endpoints: {} })}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigError(`${FLAG} ${path} cannot be created (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'check that the directory exists and is writable');
    }
    return {};
  }
  const pins = parse(text, path).endpoints[endpoint] ?? {};
  try {
    // Replaced by rename: the directory must take a new file.
    accessSync(dirname(path), constants.W_OK);
  } catch {
    throw new ConfigError(`${FLAG} ${path} cannot be updated: its directory is not writable`, 'make the directory writable, or move the pin file to one that is');
  }
  return { ...pins };
}

/** One change to apply to the file as it is on disk. */
export type PinChange = (pins: EndpointPins) => void;

/**
 * Re-reads the file, applies `changes` to the endpoint, replaces the file (temp + rename).
 * `onUnlocked` hears when another process held the lock too long (see withFileLock).
 */
export async function updatePins(path: string, endpoint: string, changes: readonly PinChange[], onUnlocked: () => void): Promise<EndpointPins> {
  return withFileLock(path, async () => {
    let file: PinFile;
    try {
      file = parse(await readFile(path, 'utf8'), path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      file = { version: 1, endpoints: {} };
    }
    const pins = (file.endpoints[endpoint] ??= {});
    for (const change of changes) change(pins);
    const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
    try {
      await writeFile(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      await rename(temp, path);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    return { ...pins };
  }, onUnlocked);
}
