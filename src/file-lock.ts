import { open, stat, unlink } from 'node:fs/promises';

export interface LockTiming {
  /** How long a lock is waited for; then the work runs anyway (it must never stall the proxy). */
  readonly waitMs: number;
  /** A lock older than this was left by a process that died while holding it; it must exceed the longest `fn`. */
  readonly staleMs: number;
}

const DEFAULT_TIMING: LockTiming = { waitMs: 2_000, staleMs: 10_000 };
const POLL_MS = 15;

/**
 * Runs `fn` while holding `<path>.lock`, a file created exclusively (O_EXCL), so several
 * proxy processes sharing one pin file or audit log take turns at read-modify-write.
 * Every write is itself safe without the lock (a rename, one O_APPEND write), so the file
 * is never corrupt; but when the lock cannot be had in time (or created at all) `fn` runs
 * anyway, because it must never stall the proxy, and then two writers may interleave: one
 * pin update can be lost (those tools are recorded again later), and two audit lines can
 * name the same `prev` (the chain check then flags the log). `onUnlocked` is told, so the
 * caller can log it.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, onUnlocked: () => void, timing: LockTiming = DEFAULT_TIMING): Promise<T> {
  const lock = `${path}.lock`;
  const held = await acquire(lock, timing);
  if (!held) onUnlocked();
  try {
    return await fn();
  } finally {
    if (held) await unlink(lock).catch(() => undefined);
  }
}

async function acquire(lock: string, timing: LockTiming): Promise<boolean> {
  const deadline = Date.now() + timing.waitMs;
  for (;;) {
    try {
      await (await open(lock, 'wx', 0o600)).close();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    }
    const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > timing.staleMs) await unlink(lock).catch(() => undefined);
    else if (Date.now() >= deadline) return false;
    else await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
