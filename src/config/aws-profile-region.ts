import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** Where a profile's `region` was found, for the error that says none was. */
export interface ProfileRegionLookup {
  readonly profile: string;
  readonly region: string | undefined;
  /** The shared config file that was (or would have been) read. */
  readonly configFile: string;
}

/**
 * The `region` of the AWS profile in effect, read the way the AWS SDK for JavaScript's
 * clients read it (`NODE_REGION_CONFIG_OPTIONS` loaded with `NODE_REGION_CONFIG_FILE_OPTIONS`
 * in @smithy/core/config): the profile from the shared config file (`AWS_CONFIG_FILE`,
 * default `~/.aws/config`) merged with the same profile from the shared credentials file
 * (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`), the credentials file
 * winning. Synchronous and SDK-free, so start-up does not pay for loading the SDK.
 * `sso_region` is the region of the SSO portal, not of the endpoint, and is never used.
 */
export function profileRegion(profile: string, e: Env): ProfileRegionLookup {
  const home = homeDir(e);
  const configFile = expandHome(e.AWS_CONFIG_FILE || join(home, '.aws', 'config'), home);
  const credentialsFile = expandHome(e.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'), home);
  const region = readIni(credentialsFile).get(`[${profile}]`)?.get('region') ?? configProfile(readIni(configFile), profile)?.get('region');
  return { profile, region, configFile };
}

/**
 * Every setting of a profile, merged as for `region` above (the credentials file winning),
 * sub-section keys as `s3.endpoint_url`. Used to tell whether a profile configures the
 * STS endpoint or retries in ways only the SDK reproduces.
 */
export function profileSettings(profile: string, e: Env): ReadonlyMap<string, string> {
  const home = homeDir(e);
  const configFile = expandHome(e.AWS_CONFIG_FILE || join(home, '.aws', 'config'), home);
  const credentialsFile = expandHome(e.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'), home);
  return new Map([...(configProfile(readIni(configFile), profile) ?? []), ...(readIni(credentialsFile).get(`[${profile}]`) ?? [])]);
}

/** The SDK's home: HOME, USERPROFILE, HOMEDRIVE+HOMEPATH, then the OS's idea. */
function homeDir(e: Env): string {
  if (e.HOME) return e.HOME;
  if (e.USERPROFILE) return e.USERPROFILE;
  if (e.HOMEPATH) return `${e.HOMEDRIVE ?? 'C:\\'}${e.HOMEPATH}`;
  return homedir();
}

function expandHome(path: string, home: string): string {
  return path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

type Ini = Map<string, Map<string, string>>;

function readIni(path: string): Ini {
  try {
    return parseIni(readFileSync(path, 'utf8'));
  } catch {
    // A missing or unreadable file counts as empty, as for the SDK.
    return new Map();
  }
}

/**
 * In the config file a profile is `[profile NAME]`; only `default` may also stand bare,
 * and `[profile default]` replaces `[default]` (the SDK's getConfigData). A bare `[NAME]`
 * there is not a profile.
 */
function configProfile(ini: Ini, profile: string): Map<string, string> | undefined {
  return ini.get(`profile ${profile}`) ?? (profile === 'default' ? ini.get('[default]') : undefined);
}

/** The SDK's section-name rule: `<type> <name>`, the name optionally quoted. */
const PREFIXED_SECTION = /^([\w-]+)\s(["'])?([\w\-@+.%:/]+)\2$/;
const SECTION_TYPES: ReadonlySet<string> = new Set(['profile', 'sso-session', 'services']);

/**
 * INI as the SDK parses it (`parseIni`): `;`/`#` comments at line start or after
 * whitespace, `[section]` lines, `key = value`; a key with an empty value opens a
 * sub-section (`s3 =` followed by indented lines), whose keys are not the profile's.
 * Sections are keyed `TYPE NAME` (`profile dev`, `sso-session corp`) or `[NAME]` for a
 * plain name; `WORD NAME` with another first word is no section at all.
 */
function parseIni(text: string): Ini {
  const ini: Ini = new Map();
  let section: Map<string, string> | undefined;
  let subSection: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = (line.split(/(?:^|\s)[;#]/)[0] ?? '').trim();
    if (trimmed.startsWith('[') && trimmed.endsWith(']')) {
      subSection = undefined;
      const name = trimmed.slice(1, -1);
      const prefixed = PREFIXED_SECTION.exec(name);
      const key = prefixed === null ? `[${name}]` : SECTION_TYPES.has(prefixed[1]!) ? `${prefixed[1]} ${prefixed[3]}` : undefined;
      section = key === undefined ? undefined : ini.get(key) ?? new Map<string, string>();
      if (key !== undefined && section !== undefined) ini.set(key, section);
      continue;
    }
    if (section === undefined) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) continue;
    const key = trimmed.slice(0, eq).trim();
    const value = trimmed.slice(eq + 1).trim();
    if (value === '') {
      subSection = key;
      continue;
    }
    if (subSection !== undefined && line.trimStart() === line) subSection = undefined;
    section.set(subSection === undefined ? key : `${subSection}.${key}`, value);
  }
  return ini;
}
