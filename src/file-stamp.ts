import { statSync } from 'node:fs';

/**
 * Identity of files' current contents, for "changed on disk?" checks (rotated tokens and
 * certificates). stat follows symlinks, so Kubernetes-style `..data` symlink swaps and
 * atomic renames (new inode) count as changes; a missing file has a stamp of its own.
 */
export function fileStamp(files: readonly string[]): string {
  return files
    .map((file) => {
      try {
        const s = statSync(file);
        return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
      } catch (err) {
        return `!${(err as NodeJS.ErrnoException).code ?? 'error'}`;
      }
    })
    .join('|');
}
