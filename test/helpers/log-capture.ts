import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../src/logging/logger.js';

export interface LogEntry {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface CapturedLog {
  logger: Logger;
  /** Everything written so far, exactly as on disk (for "never appears" assertions). */
  raw(): string;
  entries(): LogEntry[];
  /** Entries at warn (40) or above whose message matches. */
  warnings(match?: RegExp): LogEntry[];
}

/** The production logger (same redaction) writing synchronously to a temp file. */
export function captureLog(level: 'trace' | 'info' = 'trace'): CapturedLog {
  const file = join(mkdtempSync(join(tmpdir(), 'esp-log-')), 'proxy.log');
  const logger = createLogger(level, file);
  const raw = (): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const entries = (): LogEntry[] =>
    raw()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as LogEntry);
  return { logger, raw, entries, warnings: (match) => entries().filter((e) => e.level >= 40 && (match === undefined || match.test(e.msg))) };
}
