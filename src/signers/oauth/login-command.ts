import { safeUrl } from '../../logging/safe-url.js';
import type { Dispatcher } from '../../transport/undici.js';
import type { OAuthLoginConfig } from '../kinds/oauth-login.js';
import type { LoginOptions } from './login-flow.js';

/** One word for a POSIX shell: as it is when that is safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/**
 * The command that makes the login these settings look for, as the "run: …" fix shows it:
 * a person pastes it into a terminal, where the host's environment (MCP_PROXY_CONFIG,
 * MCP_PROXY_SERVER) is not set, so a config file the settings came from is named with it.
 */
export function loginCommand(c: OAuthLoginConfig, endpoint: URL): string {
  const parts = ['mcp-signing-proxy login', shellWord(safeUrl(endpoint))];
  if (c.configFile !== undefined) {
    parts.push('--config', shellWord(c.configFile.path));
    if (c.configFile.server !== undefined) parts.push('--server', shellWord(c.configFile.server));
  }
  if (c.clientId !== undefined) parts.push('--oauth-client-id', shellWord(c.clientId));
  if (c.clientMetadataUrl !== undefined) parts.push('--oauth-client-metadata-url', shellWord(safeUrl(c.clientMetadataUrl)));
  return parts.join(' ');
}

export function loginOptions(c: OAuthLoginConfig, endpoint: URL, dispatcher: Dispatcher, now: () => number, tell: (line: string) => void): LoginOptions {
  return {
    endpoint,
    resource: c.resource,
    dispatcher,
    configuredClientId: c.clientId,
    metadataDocumentUrl: c.clientMetadataUrl,
    scope: c.scope,
    openBrowser: c.openBrowser,
    timeoutMs: c.timeoutMs,
    tell,
    now,
  };
}
