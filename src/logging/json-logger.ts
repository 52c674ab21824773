/**
 * A JSON-lines logger writing pino's line format — `{"level":30,"time":…,"pid":…,
 * …child bindings, …fields,"msg":"…"}` with pino's numeric levels — so log readers and
 * `pino-pretty` work unchanged. It replaces pino because pino alone took about a third of
 * start-up on Node 20 (README, "Performance"), and the host starts us at every session; we
 * use none of pino's transports, format strings or custom levels.
 */

import type { LogLevel } from '../config/config.js';

const LEVELS: Readonly<Record<LogLevel, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

export interface LogFn {
  (fields: object, msg?: string): void;
  (msg: string): void;
}

/** What the relay needs of a logger (a pino logger has this shape too). */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
  flush?(): void;
}

/** Where lines go: one serialized line per call, newline included. */
export interface LogDestination {
  write(line: string): void;
  flushSync?(): void;
}

/** A property path to mask; `*` matches every key at its level. */
export type RedactPath = readonly string[];

export interface JsonLoggerOptions {
  level: LogLevel;
  /** Fields on every line, after level and time (pino's `base`). */
  base: Record<string, unknown>;
  /** Per-key serializers, applied to fields and child bindings (pino's `serializers`). */
  serializers: Readonly<Record<string, (value: unknown) => unknown>>;
  redact: { readonly paths: readonly RedactPath[]; readonly censor: string };
}

export function createJsonLogger(opts: JsonLoggerOptions, dest: LogDestination): Logger {
  return new JsonLogger(opts, dest, LEVELS[opts.level], opts.base);
}

class JsonLogger implements Logger {
  readonly #opts: JsonLoggerOptions;
  readonly #dest: LogDestination;
  readonly #threshold: number;
  readonly #bindings: Record<string, unknown>;

  constructor(opts: JsonLoggerOptions, dest: LogDestination, threshold: number, bindings: Record<string, unknown>) {
    this.#opts = opts;
    this.#dest = dest;
    this.#threshold = threshold;
    this.#bindings = bindings;
  }

  readonly trace: LogFn = (a: object | string, msg?: string) => this.#write(10, a, msg);
  readonly debug: LogFn = (a: object | string, msg?: string) => this.#write(20, a, msg);
  readonly info: LogFn = (a: object | string, msg?: string) => this.#write(30, a, msg);
  readonly warn: LogFn = (a: object | string, msg?: string) => this.#write(40, a, msg);
  readonly error: LogFn = (a: object | string, msg?: string) => this.#write(50, a, msg);
  readonly fatal: LogFn = (a: object | string, msg?: string) => {
    this.#write(60, a, msg);
    // The process is about to stop: what the destination still holds goes now.
    this.#dest.flushSync?.();
  };

  child(bindings: Record<string, unknown>): Logger {
    return new JsonLogger(this.#opts, this.#dest, this.#threshold, { ...this.#bindings, ...this.#serialize(bindings) });
  }

  flush(): void {
    this.#dest.flushSync?.();
  }

  #write(level: number, a: object | string, msg: string | undefined): void {
    if (level < this.#threshold) return;
    // An Error passed alone is logged under `err`, as pino does; its message is not
    // copied into `msg` (a dependency's error text may quote credentials).
    const fields = typeof a === 'string' ? undefined : a instanceof Error ? { err: a } : a;
    const text = typeof a === 'string' ? a : msg;
    const record: Record<string, unknown> = { level, time: Date.now(), ...this.#bindings, ...(fields && this.#serialize(fields)) };
    if (text !== undefined) record.msg = text;
    let masked = record;
    for (const path of this.#opts.redact.paths) masked = redactPath(masked, path, 0, this.#opts.redact.censor);
    this.#dest.write(`${stringify(masked)}\n`);
  }

  #serialize(fields: object): Record<string, unknown> {
    const out: Record<string, unknown> = { ...fields };
    for (const [key, serializer] of Object.entries(this.#opts.serializers)) {
      if (out[key] !== undefined) out[key] = serializer(out[key]);
    }
    return out;
  }
}

/**
 * `node` with `path` masked below it; objects on the way are copied only where something is
 * masked, so callers' objects stay intact and lines without secrets cost no copies.
 */
function redactPath<T>(node: T, path: RedactPath, depth: number, censor: string): T {
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Record<string, unknown>;
  const key = path[depth]!;
  let copy: Record<string, unknown> | undefined;
  for (const k of key === '*' ? Object.keys(obj) : [key]) {
    if (!Object.hasOwn(obj, k) || obj[k] === undefined) continue;
    const value = depth === path.length - 1 ? censor : redactPath(obj[k], path, depth + 1, censor);
    if (value === obj[k]) continue;
    copy ??= (Array.isArray(obj) ? [...obj] : { ...obj }) as Record<string, unknown>;
    copy[k] = value;
  }
  return (copy ?? node) as T;
}

/**
 * JSON; a BigInt as a number and a circular structure with `"[Circular]"`, as pino writes
 * them (in that rare case an object met twice is also written once).
 */
function stringify(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record);
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(record, (_key, value: unknown) => {
      if (typeof value === 'bigint') return Number(value);
      if (value !== null && typeof value === 'object') {
        if (seen.has(value)) return '[Circular]';
        seen.add(value);
      }
      return value;
    });
  }
}
