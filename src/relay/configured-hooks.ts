import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { policyHook } from '../policy/policy-hook.js';
import type { RelayHook } from './hooks.js';

/**
 * The relay hooks the configuration asks for, in the order they run. The relay and `--check`
 * both use it, so a check shows what the host will see (a read-only profile lists only its
 * read-only tools).
 */
export function configuredHooks(config: Config, logger: Logger): RelayHook[] {
  return config.policy === undefined ? [] : [policyHook(config.policy, logger)];
}
