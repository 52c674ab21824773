import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The sections of an AWS shared config file, by header (`profile x`, `sso-session y`). */
function sections(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[([^\]]+)\]/.exec(line);
    if (header !== null) {
      current = new Map();
      out.set((header[1] ?? '').trim().replace(/\s+/g, ' '), current);
      continue;
    }
    const kv = /^\s*([\w.-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (kv !== null && current !== undefined) current.set(kv[1] as string, kv[2] as string);
  }
  return out;
}

/**
 * When the SSO session behind `profile` expires, from the token cache the AWS CLI and SDKs
 * share (`~/.aws/sso/cache/<sha1 of the sso-session name, or of the start URL>.json`,
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-sso-credentials.html). Undefined
 * when the profile has no SSO settings or the cache cannot be read. The token is not kept.
 */
export async function ssoSessionExpiry(profile: string, env: NodeJS.ProcessEnv = process.env): Promise<Date | undefined> {
  const home = env.HOME || homedir();
  const configFile = (env.AWS_CONFIG_FILE || join(home, '.aws', 'config')).replace(/^~\//, `${home}/`);
  const config = sections(await readFile(configFile, 'utf8').catch(() => ''));
  const entry = config.get(profile === 'default' ? 'default' : `profile ${profile}`) ?? (profile === 'default' ? config.get('profile default') : undefined);
  const key = entry?.get('sso_session') ?? entry?.get('sso_start_url');
  if (key === undefined) return undefined;
  const file = join(home, '.aws', 'sso', 'cache', `${createHash('sha1').update(key).digest('hex')}.json`);
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as { expiresAt?: unknown };
    const at = typeof cached.expiresAt === 'string' ? new Date(cached.expiresAt) : undefined;
    return at !== undefined && !Number.isNaN(at.getTime()) ? at : undefined;
  } catch {
    return undefined;
  }
}
