import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, CredentialError } from '../errors.js';
import { fileStamp } from '../file-stamp.js';
import { registerSecret } from '../logging/safe-url.js';
import { withHeaders, type Signer } from './signer.js';

export interface BearerOptions {
  token?: string | undefined;
  tokenFile?: string | undefined;
  now?: () => number;
}

/** How often the token file is checked for a new token; stat costs microseconds, not 0. */
const RECHECK_MS = 1000;

function clean(raw: string): string {
  return raw.trim().replace(/^Bearer\s+/i, '');
}

function readToken(file: string): string {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`--bearer-token-file / MCP_BEARER_TOKEN_FILE ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'check the path and its permissions');
  }
  const token = clean(raw);
  if (token === '') throw new ConfigError(`the bearer token file ${file} is empty`, 'write the token into the file');
  if (/[\s\0]/.test(token)) throw new ConfigError(`the bearer token file ${file} holds more than one line or word`, 'the file must contain only the token');
  return token;
}

/**
 * `Authorization: Bearer <token>` from MCP_BEARER_TOKEN or a file that is re-read when it
 * changes (tools that rotate short-lived tokens rewrite the file). Never from argv.
 */
export function createBearerSigner(opts: BearerOptions): Signer {
  const now = opts.now ?? Date.now;
  const file = opts.tokenFile;
  let token = file === undefined ? clean(opts.token ?? '') : readToken(file);
  // The token as sent (a "Bearer " prefix removed); one from a file is known only now.
  registerSecret(token, file === undefined ? undefined : 'bearer-token-file');
  if (token === '') throw new ConfigError('MCP_BEARER_TOKEN is empty', 'set MCP_BEARER_TOKEN to the token');
  if (/[\s\0]/.test(token)) throw new ConfigError('MCP_BEARER_TOKEN has spaces, line breaks or control characters', 'set it to the token alone');
  let stamp = file === undefined ? '' : fileStamp([file]);
  let checkedAt = now();

  /** Re-reads the file if it changed; a broken rewrite keeps the last good token. */
  function refresh(force: boolean): boolean {
    if (file === undefined) return false;
    const t = now();
    if (!force && t - checkedAt < RECHECK_MS) return false;
    checkedAt = t;
    const next = fileStamp([file]);
    if (next === stamp) return false;
    stamp = next;
    try {
      const fresh = readToken(file);
      registerSecret(fresh, 'bearer-token-file');
      const changed = fresh !== token;
      token = fresh;
      return changed;
    } catch {
      return false;
    }
  }

  // The audit log names the token by a hash prefix (README "Audit log"), computed once per token.
  let hashed = { of: '', id: '' };

  return {
    name: 'bearer',
    identity() {
      if (hashed.of !== token) hashed = { of: token, id: `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 12)}` };
      return { bearer: hashed.id };
    },
    async sign(req) {
      refresh(false);
      return withHeaders(req, { authorization: `Bearer ${token}` });
    },
    async onAuthFailure(failure, ctx) {
      if (failure.status !== 401) return undefined;
      if (ctx.attempt === 1 && refresh(true)) {
        ctx.logger.info('bearer token file changed; retrying with the new token');
        return { retry: true };
      }
      return {
        retry: false,
        error: new CredentialError('ESP_BEARER_REJECTED', 'the server rejected the bearer token (HTTP 401)', {
          httpStatus: 401,
          hint: file === undefined ? 'check or renew MCP_BEARER_TOKEN' : `write a valid token to ${file} (it is re-read when it changes)`,
        }),
      };
    },
  };
}
