import { setTimeout as wait } from 'node:timers/promises';

/** Waits `ms`, or less if `signal` aborts first; never rejects, leaves no listener behind. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await wait(ms, undefined, signal === undefined ? undefined : { signal });
  } catch {
    // Aborted: the caller checks its signal.
  }
}
