import { execFileSync, spawn } from 'node:child_process';
import type { HeadersHelperConfig, SignerKind } from '../config/config.js';
import { headerProblem, isHeaderName } from '../config/headers.js';
import { memoizeCredentials } from '../credentials/memoize-credentials.js';
import { CredentialError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { maskTokenLike, registerSecret } from '../logging/safe-url.js';
import { withHeaders, type Signer } from './signer.js';

export interface HeadersHelperOptions extends HeadersHelperConfig {
  /** The signer after this one: decides which headers the helper may not set. */
  signer: SignerKind;
  endpoint: URL;
  logger: Logger;
  now?: () => number;
}

/** Helper output beyond this is refused: headers, not documents. */
const OUTPUT_LIMIT = 64 * 1024;

function helperError(code: string, message: string): CredentialError {
  return new CredentialError(code, `the headers helper ${message}`, {
    hint: 'run the --headers-helper / MCP_HEADERS_HELPER command yourself: it must print a JSON object of headers (or "Name: value" lines) and exit 0 without needing input',
  });
}

/** Helpers still running; killed if the proxy exits first (they run in their own group). */
const running = new Set<number>();

/** Kills the helper and whatever it started: its process group, or its tree on Windows. */
function killTree(pid: number): void {
  try {
    if (process.platform === 'win32') execFileSync('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
    else process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

process.once('exit', () => {
  for (const pid of running) killTree(pid);
});

/** Our own secrets are not the helper's business; the rest of the environment is. */
function helperEnv(endpoint: URL): NodeJS.ProcessEnv {
  const { MCP_BEARER_TOKEN: _token, MCP_OAUTH_CLIENT_SECRET: _oauth, MCP_CLIENT_KEY_PASSPHRASE: _pass, CLAUDE_CODE_CLIENT_KEY_PASSPHRASE: _ccPass, ...rest } = process.env;
  return { ...rest, MCP_ENDPOINT: `${endpoint.origin}${endpoint.pathname}` };
}

/**
 * Runs the helper with no stdin (stdin is the MCP pipe: a child reading it would steal client messages) and its
 * output kept away from our stdout. Its stderr is counted, never logged: helpers print
 * tokens in their diagnostics as often as not.
 */
function run(command: string, timeoutMs: number, endpoint: URL): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, {
      shell: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: helperEnv(endpoint),
      // Own process group, so a timeout kills the shell and whatever it started.
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    const out: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err: CredentialError | undefined, text?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err !== undefined) {
        if (pid !== undefined) killTree(pid);
        reject(err);
      } else {
        resolve(text as string);
      }
    };
    const timer = setTimeout(() => finish(helperError('ESP_HEADERS_HELPER_TIMEOUT', `did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > OUTPUT_LIMIT) finish(helperError('ESP_HEADERS_HELPER_OUTPUT', `printed more than ${OUTPUT_LIMIT} bytes`));
      else out.push(chunk);
    });
    child.stderr.resume();
    child.on('error', (err: NodeJS.ErrnoException) => finish(helperError('ESP_HEADERS_HELPER_FAILED', `could not be started (${err.code ?? 'error'})`)));
    child.on('close', (code, signal) => {
      if (pid !== undefined) running.delete(pid);
      if (code === 0) finish(undefined, Buffer.concat(out).toString('utf8'));
      else finish(helperError('ESP_HEADERS_HELPER_FAILED', signal ? `was killed by ${signal}` : `exited with code ${code}`));
    });
  });
}

/**
 * Claude Code's headersHelper format, a JSON object of names to values, or "Name: value"
 * lines. Values are never quoted back in errors.
 */
export function parseHelperOutput(text: string, signer: SignerKind): Record<string, string> {
  const trimmed = text.trim();
  let entries: Array<[string, unknown]>;
  if (trimmed.startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(trimmed);
    } catch {
      throw helperError('ESP_HEADERS_HELPER_OUTPUT', 'printed something that starts like JSON but is not');
    }
    entries = Object.entries(obj as Record<string, unknown>);
  } else {
    entries = trimmed.split(/\r?\n/).filter((l) => l.trim() !== '').map((l) => {
      const colon = l.indexOf(':');
      if (colon <= 0) throw helperError('ESP_HEADERS_HELPER_OUTPUT', 'printed a line that is not "Name: value"');
      return [l.slice(0, colon).trim(), l.slice(colon + 1).trim()];
    });
  }
  const headers: Record<string, string> = {};
  for (const [rawName, rawValue] of entries) {
    if (!isHeaderName(rawName)) throw helperError('ESP_HEADERS_HELPER_OUTPUT', 'printed a header name that is not valid');
    if (typeof rawValue !== 'string' && typeof rawValue !== 'number') throw helperError('ESP_HEADERS_HELPER_OUTPUT', `printed a non-text value for "${rawName}"`);
    const value = String(rawValue);
    if (/[\r\n\0]/.test(value)) throw helperError('ESP_HEADERS_HELPER_OUTPUT', `printed a value with a line break for "${rawName}"`);
    const name = rawName.toLowerCase();
    const problem = headerProblem(name, signer);
    if (problem !== undefined) throw helperError('ESP_HEADERS_HELPER_OUTPUT', `printed ${problem.message}`);
    headers[name] = value;
  }
  return headers;
}

/**
 * Headers made by a command (chain order, docs/architecture.md "Adding a signer": static
 * headers → headers helper → bearer | SigV4). The output is kept for the TTL and refreshed ahead of it in the background; a 401
 * or 403 re-runs the helper and retries once (short-lived tokens).
 */
export function createHeadersHelperSigner(opts: HeadersHelperOptions): Signer {
  const now = opts.now ?? Date.now;
  const log = opts.logger.child({ component: 'headers-helper' });
  /** Counts helper runs; a request signed with an older run's headers just retries. */
  let generation = 0;
  const signedWith = new WeakMap<object, number>();
  const source = memoizeCredentials(
    async () => {
      const started = now();
      try {
        const headers = parseHelperOutput(await run(opts.command, opts.timeoutMs, opts.endpoint), opts.signer);
        const finished = now();
        for (const [name, value] of Object.entries(headers)) registerSecret(value, `headers-helper ${name}`);
        // A line like "ghp_…:x" parses as a header *name*: names that look like keys are masked.
        log.info({ headers: Object.keys(headers).map(maskTokenLike), ms: finished - started }, 'headers helper ran');
        return { headers, generation: ++generation, expiration: new Date(finished + opts.ttlMs) };
      } catch (err) {
        log.error({ err }, 'headers helper failed');
        throw err;
      }
    },
    { now, onBackgroundError: () => log.warn('refreshing the helper headers failed; the previous ones stay in use until they expire') },
  );
  return {
    name: 'headers-helper',
    async sign(req, ctx) {
      const current = await source();
      signedWith.set(ctx, current.generation);
      return withHeaders(req, current.headers);
    },
    async onAuthFailure(_failure, ctx) {
      if (ctx.attempt !== 1) return undefined;
      // Requests in flight during a rotation all fail together: the first re-runs the
      // helper, the rest retry with its output (a helper that opens a browser for SSO must
      // not open one per request). The attempt's context links the failure to its signing.
      if ((signedWith.get(ctx) ?? 0) < generation) return { retry: true };
      try {
        await source({ forceRefresh: true });
      } catch (err) {
        return { retry: false, error: err as CredentialError };
      }
      return { retry: true };
    },
  };
}
