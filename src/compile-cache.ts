import nodeModule from 'node:module';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

type EnableCompileCache = (dir?: string) => unknown;

/**
 * Node 22.1+ can keep the compiled code of every module it loads on disk, so later starts
 * skip parsing and compiling; the host starts us at every session (README, "Performance").
 * The cache lives in the user's cache directory, never next to the package (which may be
 * read-only). On Node 20 the API is absent and this does nothing; a cache directory that
 * cannot be created or written only means no cache (Node reports that, it does not
 * throw), and nothing here may stop start-up. NODE_DISABLE_COMPILE_CACHE=1 turns it off;
 * NODE_COMPILE_CACHE (Node's own switch) wins when set.
 */
export function enableCompileCache(
  env: NodeJS.ProcessEnv = process.env,
  enable: EnableCompileCache | undefined = (nodeModule as { enableCompileCache?: EnableCompileCache }).enableCompileCache,
): void {
  if (enable === undefined) return;
  const dir = compileCacheDir(env);
  // A relative base (HOME empty, XDG_CACHE_HOME relative) would put the cache in the host's
  // working directory, perhaps the user's repository.
  if (!isAbsolute(dir)) return;
  try {
    enable(dir);
  } catch {
    // No cache: start-up is only slower.
  }
}

/** $XDG_CACHE_HOME (or %LOCALAPPDATA% on Windows, else ~/.cache) / mcp-signing-proxy. */
export function compileCacheDir(env: NodeJS.ProcessEnv, home: () => string = homedir): string {
  const base = env.XDG_CACHE_HOME || (process.platform === 'win32' ? env.LOCALAPPDATA : undefined) || join(home(), '.cache');
  return join(base, 'mcp-signing-proxy');
}
