/**
 * Which client a browser login uses (MCP authorization spec, "Client Registration
 * Approaches", in its order): the pre-registered --oauth-client-id; else a Client ID
 * Metadata Document (--oauth-client-metadata-url) when the authorization server advertises
 * client_id_metadata_document_supported; else dynamic client registration
 * (https://www.rfc-editor.org/rfc/rfc7591) at its registration_endpoint.
 */
import { CredentialError } from '../../errors.js';
import { registerSecret, safeOrigin } from '../../logging/safe-url.js';
import type { Dispatcher } from '../../transport/undici.js';
import type { StoredLogin } from './token-store.js';
import { oauthRequest } from './oauth-http.js';
import { checkOAuthUrl } from './url-policy.js';

export interface ChosenClient {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly clientAuth?: 'client_secret_basic';
  readonly registration: StoredLogin['registration'];
}

export interface ClientChoice {
  readonly configuredClientId: string | undefined;
  readonly metadataDocumentUrl: URL | undefined;
}

export async function chooseClient(dispatcher: Dispatcher, metadata: Readonly<Record<string, unknown>>, choice: ClientChoice, redirectUri: string): Promise<ChosenClient> {
  if (choice.configuredClientId !== undefined) return { clientId: choice.configuredClientId, registration: 'pre-registered' };
  if (choice.metadataDocumentUrl !== undefined && metadata.client_id_metadata_document_supported === true) {
    return { clientId: choice.metadataDocumentUrl.href, registration: 'metadata-document' };
  }
  if (typeof metadata.registration_endpoint !== 'string') {
    throw new CredentialError('ESP_OAUTH_NO_CLIENT', `the authorization server offers no way for this proxy to register itself (no registration_endpoint${choice.metadataDocumentUrl === undefined ? '' : ', and no client_id_metadata_document_supported'})`, {
      hint: 'register a client for redirect URI http://127.0.0.1/callback (any port) at the authorization server and pass its id with --oauth-client-id',
    });
  }
  const endpoint = checkOAuthUrl(metadata.registration_endpoint, 'registration endpoint', false, 'registration_endpoint in the authorization server metadata');
  // A native app with a loopback redirect and no secret (https://www.rfc-editor.org/rfc/rfc8252#section-7.3).
  const request = {
    client_name: 'mcp-signing-proxy',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
  };
  const res = await oauthRequest(dispatcher, endpoint, 'registration endpoint', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
  const body = res.json as { client_id?: unknown; client_secret?: unknown; token_endpoint_auth_method?: unknown } | undefined;
  if ((res.status !== 201 && res.status !== 200) || typeof body?.client_id !== 'string' || body.client_id === '') {
    throw new CredentialError('ESP_OAUTH_REGISTRATION', `the registration endpoint at ${safeOrigin(endpoint)} did not register a client (HTTP ${res.status})`, {
      hint: 'register a client at the authorization server and pass its id with --oauth-client-id',
    });
  }
  const secret = typeof body.client_secret === 'string' && body.client_secret !== '' ? body.client_secret : undefined;
  registerSecret(secret);
  const basic = secret !== undefined && secretMethod(body.token_endpoint_auth_method, metadata.token_endpoint_auth_methods_supported) === 'client_secret_basic';
  return { clientId: body.client_id, ...(secret === undefined ? {} : { clientSecret: secret }), ...(basic ? { clientAuth: 'client_secret_basic' as const } : {}), registration: 'dynamic' };
}

/**
 * How a client that registration gave a secret presents it at the token endpoint: as the
 * registration answered (https://www.rfc-editor.org/rfc/rfc7591#section-3.2.1), else as the
 * server's metadata allows (token_endpoint_auth_methods_supported, RFC 8414); in the form
 * when both or neither say otherwise.
 */
export function secretMethod(registered: unknown, supported: unknown): 'client_secret_basic' | 'client_secret_post' {
  if (registered === 'client_secret_basic' || registered === 'client_secret_post') return registered;
  const list = Array.isArray(supported) ? supported : [];
  return list.includes('client_secret_basic') && !list.includes('client_secret_post') ? 'client_secret_basic' : 'client_secret_post';
}
