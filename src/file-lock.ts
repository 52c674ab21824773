import { open, stat, unlink } from 'node:fs/promises';

/** How long a lock is waited for; then the work runs anyway (it must never stall the proxy). */
const WAIT_MS = 2_000;
/** A lock older than this was left by a process that died while holding it. */
const STALE_MS = 10_000;
const POLL_MS = 15;

/**
 * Runs `fn` while holding `<path>.lock`, a file created exclusively (O_EXCL), so several
 * proxy processes sharing one pin file or audit log take turns at read-modify-write. The
 * lock only serialises: every write is itself safe without it (a rename, one O_APPEND
 * write), so a lock that cannot be had in time, or cannot be created at all, costs at
 * worst ordering, never a corrupt file.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  const held = await acquire(lock);
  try {
    return await fn();
  } finally {
    if (held) await unlink(lock).catch(() => undefined);
  }
}

async function acquire(lock: string): Promise<boolean> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      await (await open(lock, 'wx', 0o600)).close();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    }
    const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > STALE_MS) await unlink(lock).catch(() => undefined);
    else if (Date.now() >= deadline) return false;
    else await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
