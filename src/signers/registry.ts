/**
 * The signer kinds. Adding one is a module in `src/signers/kinds/` and one line in
 * SIGNER_KINDS (docs/architecture.md, "Adding a signer"); flags, --help, config-file keys,
 * --signer values, auto selection, header conflicts and the chain all follow from it.
 */
import { ConfigError } from '../errors.js';
import { registerSecret } from '../logging/safe-url.js';
import type { HeaderConflict, SignerDeps, SignerInput, SignerKindModule } from './kind.js';
import { bearerKind } from './kinds/bearer.js';
import { oauthClientCredentialsKind } from './kinds/oauth-client-credentials.js';
import { oauthLoginKind } from './kinds/oauth-login.js';
import { sigv4Kind } from './kinds/sigv4.js';
import { SecretSource } from './secret-source.js';
import type { Signer } from './signer.js';

/** In auto-selection order: the first with a strong claim wins, then the first weak one. */
export const SIGNER_KINDS = [sigv4Kind, oauthClientCredentialsKind, bearerKind, oauthLoginKind] as const;

type AnyKind = (typeof SIGNER_KINDS)[number];

/** The configuration of the chosen signer: a discriminated union on `kind`. */
export type SignerConfig = { readonly kind: 'none' } | ReturnType<AnyKind['configure']>;
export type SignerKind = SignerConfig['kind'];

/** Every kind's flags, for the settings table (src/config/args.ts). */
type KindSetting = AnyKind['settings'][number];
export const SIGNER_SETTINGS: readonly KindSetting[] = SIGNER_KINDS.flatMap((k): readonly KindSetting[] => k.settings);
export const SIGNER_ENV_ONLY = SIGNER_KINDS.flatMap((k) => k.envOnly ?? []);
export const SIGNER_REFUSED_FLAGS: Readonly<Record<string, string>> = Object.assign({}, ...SIGNER_KINDS.map((k) => k.refusedFlags ?? {}));

export const SIGNER_NAMES: readonly string[] = ['none', ...SIGNER_KINDS.map((k) => k.kind)];

function kindOf(name: string): SignerKindModule<string, { kind: string }> | undefined {
  return (SIGNER_KINDS as readonly SignerKindModule<string, { kind: string }>[]).find((k) => k.kind === name);
}

/** --signer / MCP_SIGNER (or auto) → the chosen kind's configuration; other kinds' settings checked. */
export function configureSigner(explicit: string | undefined, input: SignerInput): SignerConfig {
  let chosen: string;
  if (explicit !== undefined && explicit !== 'auto') {
    if (!SIGNER_NAMES.includes(explicit)) {
      const names = [...SIGNER_NAMES, 'auto'];
      throw new ConfigError(`--signer / MCP_SIGNER must be ${names.slice(0, -1).join(', ')} or auto (got "${explicit}")`, `pick one of ${names.join(', ')}`);
    }
    chosen = explicit;
  } else {
    const claims = SIGNER_KINDS.map((k) => [k.kind, k.detect(input)] as const);
    chosen = (claims.find(([, c]) => c === 'strong') ?? claims.find(([, c]) => c === 'weak'))?.[0] ?? 'none';
  }
  const kind = kindOf(chosen);
  // Conflicts first: "a bearer token and SigV4 both need Authorization" is the real problem
  // even when the SigV4 settings are incomplete too.
  const facts = { kind: chosen, ownsAuthorization: kind?.ownsAuthorization ?? false };
  for (const other of SIGNER_KINDS) {
    if (other.kind === chosen) continue;
    const problem = other.unused?.(input, facts);
    if (problem !== undefined) throw problem;
  }
  return (kind === undefined ? { kind: 'none' } : kind.configure(input)) as SignerConfig;
}

/** Why a user header may not be sent next to the chosen signer, if it may not. */
export function signerHeaderProblem(name: string, signer: SignerKind): HeaderConflict | undefined {
  return kindOf(signer)?.headerProblem?.(name);
}

/** The start-up log line's view of the signer: names, paths and sources only. */
export function describeSigner(config: SignerConfig): Record<string, unknown> {
  return kindOf(config.kind)?.describe(config) ?? {};
}

/**
 * Registers the configured secrets for masking before the first log line (the endpoint
 * URL could carry one). A source that cannot be read yet is left to its signer, which
 * reports it with the flag's name.
 */
export function registerConfiguredSecrets(config: SignerConfig): void {
  for (const value of Object.values(config)) {
    if (!(value instanceof SecretSource)) continue;
    try {
      registerSecret(value.reveal());
    } catch {
      // Reported by the signer's factory.
    }
  }
}

/** The chosen kind's signer, or none. */
export async function createKindSigner(config: SignerConfig, deps: SignerDeps): Promise<Signer | undefined> {
  return kindOf(config.kind)?.create(config, deps);
}
