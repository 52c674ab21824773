import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileCacheDir, enableCompileCache } from '../../src/compile-cache.js';

describe('compile cache (Node 22.1+)', () => {
  it('lives in the user cache directory', () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: '/x/cache' }, () => '/home/u')).toBe(join('/x/cache', 'mcp-signing-proxy'));
    if (process.platform !== 'win32') expect(compileCacheDir({}, () => '/home/u')).toBe(join('/home/u', '.cache', 'mcp-signing-proxy'));
  });

  it('is enabled with that directory when the runtime has the API', () => {
    const dirs: Array<string | undefined> = [];
    enableCompileCache({ XDG_CACHE_HOME: '/x/cache' }, (dir) => dirs.push(dir));
    expect(dirs).toEqual([join('/x/cache', 'mcp-signing-proxy')]);
  });

  it('is not enabled for a relative directory (HOME empty): never in the host\'s working directory', () => {
    const dirs: Array<string | undefined> = [];
    enableCompileCache({ XDG_CACHE_HOME: 'relative/cache' }, (dir) => dirs.push(dir));
    expect(dirs).toEqual([]);
  });

  it('does nothing without the API (Node 20), and never fails start-up', () => {
    expect(() => enableCompileCache({}, undefined)).not.toThrow();
    expect(() => enableCompileCache({ XDG_CACHE_HOME: '/x' }, () => {
      throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
    })).not.toThrow();
  });
});
