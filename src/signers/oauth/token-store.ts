/**
 * The browser logins, in one JSON file under the user's config directory (README "OAuth",
 * "Browser login"): `$XDG_CONFIG_HOME/mcp-signing-proxy/oauth-tokens.json` or
 * `~/.config/…`, mode 0600 in a 0700 directory. Entries are keyed by issuer, resource and
 * the client id the user configured (none for a registered or metadata-document client), so
 * two logins to one server with different clients stay apart. Every change is a locked
 * read-modify-write and lands by rename, so several proxy processes (one per host session)
 * can refresh and rotate the same login without corrupting the file.
 */
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { access, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { withFileLock, type LockTiming } from '../../file-lock.js';
import { OAUTH_TIMEOUT_MS } from './request-timeout.js';
import type { Env } from '../../config/values.js';

export interface StoredLogin {
  readonly issuer: string;
  /** The RFC 8707 resource the tokens are for: the MCP endpoint. */
  readonly resource: string;
  /** The --oauth-client-id the login was made with; null when the client was registered or a metadata document. */
  readonly configuredClientId: string | null;
  readonly clientId: string;
  /** Only when dynamic registration issued one. */
  readonly clientSecret?: string;
  /** How that secret is presented; absent: in the form (client_secret_post). */
  readonly clientAuth?: 'client_secret_basic';
  /** The RFC 8707 resource sent to the authorization server, when the resource metadata publishes another one than `resource` (e.g. the origin alone). */
  readonly resourceIndicator?: string;
  readonly registration: 'pre-registered' | 'metadata-document' | 'dynamic';
  readonly tokenEndpoint: string;
  readonly accessToken: string;
  /** Epoch ms; null when the server gave no expires_in. */
  readonly expiresAt: number | null;
  readonly refreshToken: string | null;
  readonly scope: string | null;
  readonly savedAt: number;
}

interface StoreFile {
  readonly version: 1;
  readonly logins: Record<string, StoredLogin>;
}

/** Where the logins live, from the environment the proxy was given; undefined without HOME or XDG_CONFIG_HOME. */
export function tokenStorePath(env: Env): string | undefined {
  const xdg = env.XDG_CONFIG_HOME?.trim();
  const home = env.HOME?.trim() || env.USERPROFILE?.trim();
  const base = xdg ? xdg : home ? join(home, '.config') : undefined;
  return base === undefined ? undefined : join(base, 'mcp-signing-proxy', 'oauth-tokens.json');
}

function loginKey(l: Pick<StoredLogin, 'issuer' | 'resource' | 'configuredClientId'>): string {
  return JSON.stringify([l.issuer, l.resource, l.configuredClientId]);
}

function parse(text: string | undefined): StoreFile {
  if (text === undefined) return { version: 1, logins: {} };
  try {
    const json = JSON.parse(text) as Partial<StoreFile>;
    if (json.version === 1 && typeof json.logins === 'object' && json.logins !== null) return json as StoreFile;
  } catch {
    // A file this version cannot read holds nothing usable: the next login replaces it.
  }
  return { version: 1, logins: {} };
}

function readSyncOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

/** The logins for this resource and configured client id, newest first. */
function matching(store: StoreFile, resource: string, configuredClientId: string | undefined): StoredLogin[] {
  return Object.values(store.logins)
    .filter((l) => l.resource === resource && l.configuredClientId === (configuredClientId ?? null))
    .sort((a, b) => b.savedAt - a.savedAt);
}

/** For auto-selection at start-up (synchronous: configuration is). */
export function hasLoginSync(path: string, resource: string, configuredClientId: string | undefined): boolean {
  return matching(parse(readSyncOrUndefined(path)), resource, configuredClientId).length > 0;
}

export async function findLogin(path: string, resource: string, configuredClientId: string | undefined): Promise<StoredLogin | undefined> {
  return matching(parse(await readOrUndefined(path)), resource, configuredClientId)[0];
}

/** The store's directory, 0700 (an existing one keeps its mode from mkdir: tokens never sit in a readable one). */
function ensureDir(path: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Temp files are unique per process and write (the pid and a counter); `wx` refuses a leftover. */
let writes = 0;

async function writeStore(path: string, store: StoreFile): Promise<void> {
  const tmp = `${path}.${process.pid}.${++writes}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/**
 * A refresh holds the lock for one token request, so the others wait that long instead of
 * refreshing with the same refresh token (an authorization server with reuse detection then
 * revokes the whole token family, https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2),
 * and the lock is not taken for stale while it runs.
 */
const STORE_LOCK: LockTiming = { waitMs: OAUTH_TIMEOUT_MS + 2_000, staleMs: OAUTH_TIMEOUT_MS + 10_000 };

/**
 * Changes the login for this resource and client id under the file's lock: `change` gets
 * the newest stored one (as another process may have just rotated it) and returns the
 * login to keep, or undefined to leave the file alone.
 */
export async function updateLogin(
  path: string,
  resource: string,
  configuredClientId: string | undefined,
  change: (current: StoredLogin | undefined) => Promise<StoredLogin | undefined>,
  onUnlocked: () => void,
): Promise<StoredLogin | undefined> {
  ensureDir(path);
  return withFileLock(
    path,
    async () => {
      const store = parse(await readOrUndefined(path));
      const current = matching(store, resource, configuredClientId)[0];
      const next = await change(current);
      if (next === undefined || next === current) return current;
      await writeStore(path, { version: 1, logins: { ...store.logins, [loginKey(next)]: next } });
      return next;
    },
    onUnlocked,
    STORE_LOCK,
  );
}

export async function saveLogin(path: string, login: StoredLogin, onUnlocked: () => void): Promise<void> {
  ensureDir(path);
  await withFileLock(
    path,
    async () => {
      const store = parse(await readOrUndefined(path));
      await writeStore(path, { version: 1, logins: { ...store.logins, [loginKey(login)]: login } });
    },
    onUnlocked,
    STORE_LOCK,
  );
}

/** How long a refresh by another process (one token request) may hold the lock. */
const REFRESH_WAIT_MS = 16_000;

/** Waits while another process holds the store's lock (it may be rotating the refresh token), at most one token request long. */
export async function waitForUnlock(path: string): Promise<void> {
  const deadline = Date.now() + REFRESH_WAIT_MS;
  while (Date.now() < deadline && (await access(`${path}.lock`).then(() => true, () => false))) await new Promise((r) => setTimeout(r, 50));
}

/** Removes every login for this resource and client id; returns what was removed. */
export async function removeLogins(path: string, resource: string, configuredClientId: string | undefined, onUnlocked: () => void): Promise<StoredLogin[]> {
  if ((await readOrUndefined(path)) === undefined) return [];
  return withFileLock(
    path,
    async () => {
      const store = parse(await readOrUndefined(path));
      const gone = matching(store, resource, configuredClientId);
      if (gone.length === 0) return [];
      const keep = Object.fromEntries(Object.entries(store.logins).filter(([, l]) => !gone.includes(l)));
      await writeStore(path, { version: 1, logins: keep });
      return gone;
    },
    onUnlocked,
    STORE_LOCK,
  );
}
