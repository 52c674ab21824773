import { ConfigError } from '../errors.js';

/** The environment as normalizeConfig reads it (process.env, or a test's own object). */
export type Env = Readonly<Record<string, string | undefined>>;

/** An env value, with empty strings treated as unset (hosts often template "" in). */
export function env(e: Env, name: string): string | undefined {
  const v = e[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

export function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v);
}

export function positiveInt(value: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(`${what} must be a whole number, got "${value}"`, `set it to a number between ${min} and ${max}`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(`${what} must be between ${min} and ${max}, got ${n}`, `set it to a number between ${min} and ${max}`);
  return n;
}

export function isLoopback(url: URL): boolean {
  const h = url.hostname;
  return h === 'localhost' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
