import type { Config } from '../config/config.js';
import type { Setting } from '../config/args.js';
import type { Env } from '../config/values.js';
import type { ConfigError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Dispatcher } from '../transport/undici.js';
import type { Signer } from './signer.js';

/** What a signer kind reads its settings from: flags by name, then the environment. */
export interface SignerInput {
  readonly endpoint: URL;
  /** --allow-http / MCP_ALLOW_HTTP: plain http beyond loopback is acceptable. */
  readonly allowHttp: boolean;
  /** A string flag's value (flag name without dashes), undefined when not given. */
  flag(name: string): string | undefined;
  /** A boolean flag (flag name without dashes): given on the command line or true in the config file. */
  switchOn(name: string): boolean;
  /** A trimmed environment variable, undefined when unset or empty. */
  env(name: string): string | undefined;
  /** The environment as given, for values whose whitespace matters. */
  readonly rawEnv: Env;
}

/** What a signer factory gets: the same network path and logger as the MCP traffic. */
export interface SignerDeps {
  /** The one dispatcher (CA bundle, mTLS identity, HTTP(S)_PROXY, connect timeout). */
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  readonly now: () => number;
  /** The whole configuration, for settings shared with the transport (endpoint, TLS). */
  readonly config: Config;
}

/** A header a user (static header, headers helper) may not set because this kind writes it. */
export interface HeaderConflict {
  readonly message: string;
  readonly hint: string;
}

/**
 * One signer kind: its settings, how it is chosen and configured, what it owns and how its
 * signer is built. Registered in `src/signers/registry.ts` (docs/architecture.md, "Adding a
 * signer"). `C` is its branch of the configuration union: plain data, secrets as
 * `SecretSource`s only.
 */
export interface SignerKindModule<K extends string, C extends { readonly kind: K }, S extends readonly Setting[] = readonly Setting[]> {
  readonly kind: K;
  /** Its flags (rows of the settings table: parseArgs, --help and config-file keys). */
  readonly settings: S;
  /** Flags that look like they take its secret, refused with the fix (argv is world-readable). */
  readonly refusedFlags?: Readonly<Record<string, string>>;
  /** Its environment-only settings (secrets), listed in --help. */
  readonly envOnly?: ReadonlyArray<{ readonly env: string; readonly key?: string; readonly help: string; readonly group: Setting['group'] }>;
  /**
   * With --signer auto: `strong` when its own settings are given, `weak` when only a hint
   * says so (an AWS URL); the first strong kind in registry order wins, else the first weak.
   */
  detect(input: SignerInput): 'strong' | 'weak' | undefined;
  /** Its settings when it is chosen; throws a ConfigError naming the flag/variable. */
  configure(input: SignerInput): C;
  /**
   * When another kind is chosen: an error if this kind's settings were given and cannot be
   * honoured (e.g. a role ARN without SigV4). `chosen` owns Authorization when `ownsAuthorization`.
   */
  unused?(input: SignerInput, chosen: { kind: string; ownsAuthorization: boolean }): ConfigError | undefined;
  /** Whether its signer writes Authorization (then a user header of that name is refused). */
  readonly ownsAuthorization: boolean;
  /** Why a user header may not be sent next to it, beyond Authorization. */
  headerProblem?(name: string): HeaderConflict | undefined;
  /** The start-up log line's view of it: names, paths and sources, never values. */
  describe(config: C): Record<string, unknown>;
  /** Builds the signer; heavy modules are imported here, only when the kind is chosen. */
  create(config: C, deps: SignerDeps): Promise<Signer>;
}

/**
 * Declares a kind with its settings rows kept literal, so the flags it registers become
 * typed fields of CliArgs like every other row.
 */
export function defineSignerKind<K extends string, C extends { readonly kind: K }, const S extends readonly Setting[]>(
  def: SignerKindModule<K, C, S>,
): SignerKindModule<K, C, S> {
  return def;
}
