/**
 * Per-test teardown. Kept apart from spawn-proxy.ts so that scripts importing that helper
 * outside vitest do not load vitest.
 */
import { afterEach } from 'vitest';

export type Cleanup = () => unknown;

/** Registers an afterEach that runs, last first, the cleanups a test pushed onto the returned array. */
export function useCleanups(): Cleanup[] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return cleanups;
}
