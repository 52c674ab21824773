import { createHash } from 'node:crypto';
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';

export type { Logger };

/**
 * The root logger. Never stdout: pino's default destination is fd 1 (protocol-notes §1.1),
 * which would corrupt the JSON-RPC stream. Synchronous writes so nothing is lost on exit.
 * A log file is created 0600 (failure-catalogue H5).
 */
export function createLogger(level: LogLevel, file?: string): Logger {
  const dest = file === undefined
    ? pino.destination({ dest: 2, sync: true })
    : pino.destination({ dest: file, sync: true, mkdir: true, mode: 0o600 });
  return pino(
    {
      level,
      base: { pid: process.pid },
      // Belt and braces: we log header *names* only, but if a headers object ever reaches a
      // log call these paths are masked (names are lower-cased before they get here).
      redact: {
        paths: ['headers.authorization', 'headers["proxy-authorization"]', 'headers["x-amz-security-token"]', 'headers.cookie', 'headers["x-api-key"]', '*.secretAccessKey', '*.sessionToken', 'secretAccessKey', 'sessionToken', 'token'],
        censor: '[redacted]',
      },
    },
    dest,
  );
}

/** Origin and path only: query strings may carry signatures or tokens (H1). */
export function safeUrl(url: URL): string {
  return `${url.origin}${url.pathname}${url.search ? '?…' : ''}`;
}

/** Session ids are bearer-like (spec: session hijacking): log a short hash instead. */
export function sessionTag(id: string | undefined): string | undefined {
  return id === undefined ? undefined : createHash('sha256').update(id).digest('hex').slice(0, 8);
}
