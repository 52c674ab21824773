import type { Config } from '../config/config.js';
import type { Layered } from '../config/config-file.js';
import { maskedSettings } from '../config/print-config.js';
import type { Stage } from './report.js';

/**
 * The effective settings that differ from the defaults, masked as --print-config masks them
 * (README "Config file"), so a user sees which flag, variable or file entry the check ran with.
 */
export function configurationStage(config: Config, layered: Layered): Stage {
  const set = maskedSettings(layered).filter(([, value, source]) => source !== 'default' && source !== 'unset' && value !== '-');
  const details: Record<string, string> = {};
  for (const [name, value, source] of set) details[name] = `${value}  (${source})`;
  const file = layered.file === undefined ? '' : `, config ${layered.file.path}${layered.file.server === undefined ? '' : ` server ${layered.file.server}`}`;
  return {
    id: 'configuration',
    status: 'ok',
    summary: `signer ${config.signer}, transport ${config.transport}, ${set.length} setting${set.length === 1 ? '' : 's'} given${file}`,
    details,
  };
}
