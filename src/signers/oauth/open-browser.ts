import { spawn } from 'node:child_process';
import { isLoopback } from '../../config/values.js';

/**
 * Opens `url` in the user's browser without a shell: the URL is one argv element of the
 * platform's opener, so nothing in it is ever interpreted as a command (a server-supplied
 * authorization URL reached a shell in CVE-2025-6514). Only https, or http to loopback,
 * is opened. Resolves false when no browser could be started; the caller prints the URL.
 */
export function openBrowser(url: URL, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) return Promise.resolve(false);
  const opener =
    process.platform === 'darwin'
      ? { cmd: 'open', args: [url.href] }
      : process.platform === 'win32'
        ? { cmd: 'rundll32', args: ['url.dll,FileProtocolHandler', url.href] }
        : env.DISPLAY || env.WAYLAND_DISPLAY
          ? { cmd: 'xdg-open', args: [url.href] }
          : undefined;
  if (opener === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    const child = spawn(opener.cmd, opener.args, { shell: false, stdio: 'ignore', detached: true, windowsHide: true });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}
