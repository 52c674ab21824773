import { safeUrl } from '../../logging/safe-url.js';
import type { Dispatcher } from '../../transport/undici.js';
import type { OAuthLoginConfig } from '../kinds/oauth-login.js';
import type { LoginOptions } from './login-flow.js';

/** The command that makes the login these settings look for, as the "run: …" fix shows it. */
export function loginCommand(c: OAuthLoginConfig, endpoint: URL): string {
  const parts = ['mcp-signing-proxy login', safeUrl(endpoint)];
  if (c.clientId !== undefined) parts.push('--oauth-client-id', c.clientId);
  if (c.clientMetadataUrl !== undefined) parts.push('--oauth-client-metadata-url', safeUrl(c.clientMetadataUrl));
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
