/**
 * The audit log file (README "Audit log"): JSON Lines, 0600, appended, each line carrying
 * `prev`, the SHA-256 of the line before it in the file (64 zeros on a file's first line).
 *
 * It never holds up the relay: lines are queued (bounded) and written in batches on a later
 * turn of the event loop. Each batch opens the path afresh, so a file renamed or removed by
 * logrotate (create mode) is noticed without a signal and a new 0600 file starts at the
 * path; the chain is continued from the file's last line, also when several proxy
 * processes share the log (they take turns under a lock file). Lines that cannot be written
 * (disk full, the path turned into a directory or FIFO) are dropped and counted, and the
 * loss is logged once until writing works again.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { withFileLock } from '../file-lock.js';
import type { Logger } from '../logging/logger.js';
import type { AuditRecord } from './audit-record.js';

export const GENESIS = '0'.repeat(64);
/** Lines waiting to be written; beyond this they are dropped and counted. */
const MAX_QUEUED = 1024;
/**
 * Non-blocking, and read-write: opening a FIFO write-only would wait for a reader (a thread
 * pool thread stuck, and with it the exit); O_RDWR never waits, and the file type is then
 * checked before anything is written. Read access serves the chain's last line.
 */
const FLAGS = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK;
const FLAG_NAME = '--audit-log / MCP_AUDIT_LOG';

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Start-up check: the path is a regular file (created 0600 if missing) that can be appended to. */
export function checkAuditPath(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, FLAGS, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'EISDIR') throw new ConfigError(`${FLAG_NAME} ${path} is a directory`, 'point it at a regular file (it is created 0600 if missing)');
    throw new ConfigError(`${FLAG_NAME} ${path} cannot be opened for appending (${code})`, 'check that the directory exists and that the file is writable');
  }
  try {
    // fstat, not stat: what was opened, a symlink followed.
    if (!fstatSync(fd).isFile()) throw new ConfigError(`${FLAG_NAME} ${path} is not a regular file`, 'point it at a regular file (it is created 0600 if missing)');
  } finally {
    closeSync(fd);
  }
}

class NotAFile extends Error {
  readonly code = 'ENOTREG';
}

export class AuditLog {
  readonly #path: string;
  readonly #log: Logger;
  #queue: Array<() => AuditRecord> = [];
  #writing: Promise<void> | undefined;
  #lossLogged = false;
  /** Lines dropped since start-up: queue full or the write failed. */
  lost = 0;
  /** Lines written since start-up. */
  written = 0;
  /** The hash of the last line this process wrote (logged at exit, to check a log's end). */
  lastHash: string | undefined;

  constructor(path: string, log: Logger) {
    this.#path = path;
    this.#log = log;
  }

  /** Queues one line; `make` runs when the batch is written, off the relay's path. */
  append(make: () => AuditRecord): void {
    if (this.#queue.length >= MAX_QUEUED) {
      this.#lose(1, 'the queue is full (the file is not keeping up)');
      return;
    }
    this.#queue.push(make);
    this.#writing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#drain());
  }

  /** Waits (at most `timeoutMs`) for the queued lines; at exit. */
  async close(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#writing, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    const unwritten = this.#queue.length;
    if (unwritten > 0) this.#lose(unwritten, 'the proxy exited before they were written');
    if (this.lost > 0) this.#log.warn({ path: this.#path, lost: this.lost, written: this.written }, 'audit log: some lines were lost');
    else this.#log.info({ path: this.#path, written: this.written, lastHash: this.lastHash }, 'audit log closed');
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      const records: AuditRecord[] = [];
      for (const make of batch) {
        try {
          records.push(make());
        } catch (err) {
          this.#log.error({ err }, 'audit log: a line could not be built');
          this.#lose(1, 'a line could not be built');
        }
      }
      try {
        await withFileLock(this.#path, () => this.#write(records), () => this.#log.warn({ path: this.#path }, 'audit log: another process held the lock too long; writing without it (the hash chain may fork here)'));
        this.written += records.length;
        if (this.#lossLogged) {
          this.#lossLogged = false;
          this.#log.info({ path: this.#path, lost: this.lost }, 'audit log: writing again');
        }
      } catch (err) {
        this.#lose(records.length, (err as NodeJS.ErrnoException).code ?? 'error');
      }
    }
    this.#writing = undefined;
  }

  async #write(records: readonly AuditRecord[]): Promise<void> {
    const fh = await open(this.#path, FLAGS, 0o600);
    try {
      const s = await fh.stat();
      if (s.isDirectory() || s.isFIFO() || s.isSocket()) throw new NotAFile('not a regular file');
      let prev = GENESIS;
      let text = '';
      if (s.isFile() && s.size > 0) {
        const tail = await lastLine(fh, s.size);
        prev = sha256Hex(tail.line);
        // A line cut short (a crash, a full disk) is ended so the next one stands alone.
        if (!tail.terminated) text = '\n';
      }
      for (const r of records) {
        const line = JSON.stringify({ ...r, prev });
        prev = sha256Hex(line);
        text += `${line}\n`;
      }
      const bytes = Buffer.from(text);
      // One write for the batch: O_APPEND places it whole at the end, whoever else appends.
      let off = 0;
      while (off < bytes.length) off += (await fh.write(bytes, off)).bytesWritten;
      this.lastHash = prev;
    } finally {
      await fh.close();
    }
  }

  #lose(n: number, reason: string): void {
    this.lost += n;
    if (this.#lossLogged) return;
    this.#lossLogged = true;
    this.#log.error({ path: this.#path, reason, lost: this.lost }, 'audit log: lines could not be written and are lost; the relay keeps serving (counted until writing works again)');
  }
}

/** The file's last line (without its newline) and whether the file ends with one. */
async function lastLine(fh: FileHandle, size: number): Promise<{ line: Buffer; terminated: boolean }> {
  const last = Buffer.alloc(1);
  await fh.read(last, 0, 1, size - 1);
  const terminated = last[0] === 0x0a;
  const end = terminated ? size - 1 : size;
  let chunk = 64 * 1024;
  for (;;) {
    const start = Math.max(0, end - chunk);
    const buf = Buffer.alloc(end - start);
    await fh.read(buf, 0, buf.length, start);
    const nl = buf.lastIndexOf(0x0a);
    if (nl !== -1) return { line: buf.subarray(nl + 1), terminated };
    if (start === 0) return { line: buf, terminated };
    chunk *= 4;
  }
}
