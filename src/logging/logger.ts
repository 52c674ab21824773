import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogLevel } from '../config/config.js';
import { ConfigError, ProxyError } from '../errors.js';
import { createJsonLogger, type LogDestination, type Logger } from './json-logger.js';
import { LogSink } from './log-sink.js';

export type { Logger };

/**
 * The root logger. Never stdout (MCP stdio transport, https://modelcontextprotocol.io/specification/2025-11-25/basic/transports): it would corrupt the JSON-RPC stream. Stderr never blocks (a host may not read it, see
 * LogSink); a file is written synchronously so nothing is lost on exit.
 * A log file is created 0600: log lines may name profiles, roles and hosts.
 */
export function createLogger(level: LogLevel, file?: string): Logger {
  // A silent logger writes nothing, so it needs no stderr sink (nor its exit hook).
  const dest = file !== undefined ? fileDestination(file) : level === 'silent' ? { write: () => undefined } : LogSink.stderr();
  return createJsonLogger(
    {
      level,
      base: { pid: process.pid },
      serializers: { err: serializeError },
      // Belt and braces: we log header *names* only, but if a headers object ever reaches a
      // log call these paths are masked (names are lower-cased before they get here).
      redact: {
        paths: [
          ['headers', 'authorization'], ['headers', 'proxy-authorization'], ['headers', 'x-amz-security-token'], ['headers', 'cookie'], ['headers', 'x-api-key'],
          ['*', 'secretAccessKey'], ['*', 'sessionToken'], ['secretAccessKey'], ['sessionToken'], ['token'],
        ],
        censor: '[redacted]',
      },
    },
    dest,
  );
}

/**
 * The --log-file destination: appended synchronously (nothing is lost on exit), created
 * 0600 with its directory; a path that cannot be opened is a setting error.
 */
function fileDestination(file: string): LogDestination {
  let fd: number;
  try {
    mkdirSync(dirname(file), { recursive: true });
    fd = openSync(file, 'a', 0o600);
    // `mode` applies only when the file is created; an existing one is tightened too.
    chmodSync(file, 0o600);
  } catch (err) {
    throw new ConfigError(`--log-file / MCP_LOG_FILE ${file} cannot be opened (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'point it at a file in a writable directory, or unset it to log to stderr');
  }
  return {
    write(line) {
      const buf = Buffer.from(line, 'utf8');
      for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
    },
  };
}

/**
 * Errors in logs: our own errors by their safe fields only; anything else by class and code.
 * A generic serializer (pino's default) copies every enumerable property, the stack and each cause's
 * message — a dependency's error text may quote credentials.
 */
export function serializeError(err: unknown): Record<string, unknown> {
  if (err instanceof ProxyError) return err.toJSON();
  const e = err as { name?: unknown; code?: unknown } | undefined;
  return { type: typeof e?.name === 'string' ? e.name : typeof err, code: typeof e?.code === 'string' ? e.code : undefined };
}

/** Session ids are bearer-like (spec: session hijacking): log a short hash instead. */
export function sessionTag(id: string | undefined): string | undefined {
  return id === undefined ? undefined : createHash('sha256').update(id).digest('hex').slice(0, 8);
}
