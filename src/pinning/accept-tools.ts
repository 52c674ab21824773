import { ConfigError } from '../errors.js';
import { compileGlobs } from '../policy/glob.js';
import { updatePins, type Digests } from './pin-file.js';

/**
 * `--accept-tool LIST` (README "Tool pinning"): the tools named whose change is pending are
 * pinned as the server listed them last; returns their names. Running proxies pick the
 * change up at the client's next tools/list.
 */
export async function acceptTools(file: string, endpoint: string, patterns: readonly string[]): Promise<string[]> {
  const matches = compileGlobs(patterns);
  const accepted: string[] = [];
  const waiting: string[] = [];
  await updatePins(file, endpoint, [
    (pins) => {
      for (const [name, pin] of Object.entries(pins)) {
        if (pin.pending === undefined) continue;
        if (!matches(name)) {
          waiting.push(name);
          continue;
        }
        const { seen: _seen, ...digests } = pin.pending;
        pins[name] = { accepted: digests as Digests };
        accepted.push(name);
      }
    },
  ], () => process.stderr.write(`mcp-signing-proxy: another process held ${file}.lock too long; updated without it\n`));
  if (accepted.length === 0) {
    throw new ConfigError(
      `no tool matching --accept-tool ${patterns.join(',')} waits for acceptance for ${endpoint} in ${file}`,
      waiting.length > 0 ? `name one of the tools waiting: ${waiting.join(', ')}` : 'a changed or new tool is recorded when the proxy hides it from tools/list; check the endpoint settings',
    );
  }
  return accepted;
}
