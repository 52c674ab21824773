import { readFile } from 'node:fs/promises';
import { signerOf, type Config } from '../config/config.js';
import { ProxyError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { jwtClaims } from '../signers/jwt-claims.js';
import { describeSigner } from '../signers/registry.js';
import type { Signer } from '../signers/signer.js';
import type { Stage } from './report.js';

const HOUR_MS = 3_600_000;

/** An expiry and how far off it is: "2026-01-01T10:00:00.000Z (in 42 min)", or "(expired)". */
function when(at: Date, now: number): string {
  const ms = at.getTime() - now;
  if (ms <= 0) return `${at.toISOString()} (expired)`;
  return `${at.toISOString()} (in ${ms < HOUR_MS ? `${Math.floor(ms / 60_000)} min` : `${(ms / HOUR_MS).toFixed(1)} h`})`;
}

function failed(err: unknown, fallbackHint: string): Stage {
  if (err instanceof ProxyError) return { id: 'credentials', status: 'fail', summary: err.message, fix: err.hint ?? fallbackHint };
  return { id: 'credentials', status: 'fail', summary: `could not get credentials (${err instanceof Error ? err.name : 'error'})`, fix: fallbackHint };
}

/** What else adds credentials besides the chosen kind: names only. */
function extras(config: Config): Record<string, string | undefined> {
  return {
    headers: config.headers.length > 0 ? config.headers.map(([name]) => name).join(', ') : undefined,
    headersHelper: config.headersHelper === undefined ? undefined : 'configured (its output is not shown)',
    signerModule: config.signerModule,
  };
}

/** Bearer: where the token comes from and, for a JWT, what its claims say (decoded, never printed). */
async function bearer(config: Config, now: number): Promise<Stage> {
  const c = signerOf(config, 'bearer');
  if (c === undefined) throw new Error('not a bearer configuration');
  const source = c.tokenFile === undefined ? (c.token?.label ?? 'env MCP_BEARER_TOKEN') : `file ${c.tokenFile}`;
  let token: string;
  try {
    token = c.tokenFile === undefined ? (c.token?.reveal() ?? '') : (await readFile(c.tokenFile, 'utf8')).trim();
  } catch (err) {
    return { id: 'credentials', status: 'fail', summary: `bearer token ${source} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, fix: 'check the path and its permissions' };
  }
  const claims = jwtClaims(token);
  if (claims === undefined) return { id: 'credentials', status: 'ok', summary: `bearer token from ${source} (opaque, not a JWT: no expiry to show)`, details: extras(config) };
  const expired = claims.exp !== undefined && claims.exp.getTime() <= now;
  return {
    id: 'credentials',
    status: expired ? 'fail' : 'ok',
    summary: `bearer token from ${source}, a JWT${claims.exp === undefined ? ' without exp' : `, expires ${when(claims.exp, now)}`}`,
    details: { issuer: claims.iss, audience: claims.aud, subject: claims.sub, scope: claims.scope, ...extras(config) },
    fix: expired ? `get a new token and put it in ${source}` : undefined,
  };
}

/**
 * SigV4: the credential source and expiry, and who STS says the credentials are. The
 * credentials are the chain's own, the ones the MCP exchange signed with: an assumed role
 * is assumed once per check, as once per run.
 */
async function sigv4(config: Config, chain: readonly Signer[], logger: Logger): Promise<Stage> {
  const c = signerOf(config, 'sigv4');
  if (c === undefined) throw new Error('not a SigV4 configuration');
  const [{ sigV4CredentialsOf }, { getCallerIdentity }, { ssoSessionExpiry }] = await Promise.all([
    import('../signers/sigv4.js'),
    import('./caller-identity.js'),
    import('./sso-session.js'),
  ]);
  const credentials = chain.map(sigV4CredentialsOf).find((source) => source !== undefined);
  if (credentials === undefined) throw new Error('the signer chain has no SigV4 signer');
  const profile = c.profile ?? 'default';
  let creds;
  try {
    creds = await credentials();
  } catch (err) {
    return failed(err, `run aws sts get-caller-identity --profile ${profile} to see what the credential chain finds`);
  }
  // After the fetch: an AssumeRole made just now must not look longer than it was issued for.
  const now = Date.now();
  const label = creds.origin?.label ?? 'the AWS default credential chain';
  const sso = label.includes('SSO session') ? await ssoSessionExpiry(profile) : undefined;
  const details: Record<string, unknown> = {
    source: label,
    accessKeyId: `…${creds.accessKeyId.slice(-4)}`,
    expires: creds.expiration === undefined ? 'never (long-term keys)' : when(creds.expiration, now),
    ssoSessionExpires: sso === undefined ? undefined : when(sso, now),
    assumeRole: c.assumeRole?.roleArn,
    signing: `${c.service} in ${c.region}`,
  };
  try {
    const who = await getCallerIdentity(config, c, credentials, logger);
    if (who === undefined) {
      return { id: 'credentials', status: 'warn', summary: `AWS credentials from ${label}; not asked who they are: the AWS SDK chooses the STS endpoint with these settings`, details: { ...details, ...extras(config) }, fix: `run aws sts get-caller-identity --profile ${profile}` };
    }
    return {
      id: 'credentials',
      status: 'ok',
      summary: `AWS ${who.arn} (account ${who.account}${who.assumedRole === undefined ? '' : `, assumed role ${who.assumedRole}`}) from ${label}`,
      details: { ...details, ...extras(config) },
      data: { account: who.account, arn: who.arn, assumedRole: who.assumedRole, expiresAt: creds.expiration?.toISOString(), ssoSessionExpiresAt: sso?.toISOString() },
    };
  } catch (err) {
    const stage = failed(err, 'check the network path to STS (AWS_ENDPOINT_URL_STS, HTTPS_PROXY)');
    const rejected = err instanceof ProxyError && (err.httpStatus === 400 || err.httpStatus === 403);
    return { ...stage, details, fix: rejected && creds.origin !== undefined ? creds.origin.renew : stage.fix };
  }
}

/**
 * Who the proxy signs as. SigV4 and bearer tokens are examined here; OAuth tokens come from
 * the signer after the MCP exchange obtained one (`chain`), so they are the ones it sent.
 */
export async function credentialsStage(config: Config, chain: readonly Signer[], mcpFailed: boolean, logger: Logger, now: number): Promise<Stage> {
  if (config.auth.kind === 'sigv4') return sigv4(config, chain, logger);
  if (config.auth.kind === 'bearer') return bearer(config, now);
  const factual = chain.find((s) => s.credentialFacts !== undefined);
  if (factual !== undefined) {
    const facts = factual.credentialFacts?.();
    const problem = facts === undefined ? await factual.credentialProblem?.() : undefined;
    if (problem !== undefined) {
      return { id: 'credentials', status: 'fail', summary: `${factual.name}: ${problem.message}`, details: describeSigner(config.auth), fix: problem.hint ?? 'see the fix of the mcp stage' };
    }
    if (facts === undefined) {
      return { id: 'credentials', status: mcpFailed ? 'fail' : 'warn', summary: `${factual.name}: no access token was obtained${mcpFailed ? ' (the mcp stage says why)' : ''}`, details: describeSigner(config.auth), fix: 'see the fix of the mcp stage' };
    }
    const expiresAt = typeof facts.expiresAt === 'string' ? new Date(facts.expiresAt) : undefined;
    return {
      id: 'credentials',
      status: 'ok',
      summary: `${factual.name} token from ${facts.issuer ?? facts.tokenEndpoint ?? 'the authorization server'}${expiresAt === undefined ? '' : `, expires ${when(expiresAt, now)}`}`,
      details: { ...facts, ...extras(config) },
    };
  }
  const other = extras(config);
  if (config.auth.kind !== 'none') return { id: 'credentials', status: 'ok', summary: `signer ${config.auth.kind}`, details: { ...describeSigner(config.auth), ...other } };
  if (Object.values(other).some((v) => v !== undefined)) return { id: 'credentials', status: 'ok', summary: 'no signer; credentials only from the settings below', details: other };
  return { id: 'credentials', status: 'warn', summary: 'none configured: requests go out without credentials', fix: 'if the server needs them: set MCP_BEARER_TOKEN, --oauth-client-id with a secret, AWS settings for SigV4, or --header (see --help)' };
}
