/**
 * Tool pinning as a relay hook (README "Tool pinning"). It runs after the policy hook, so
 * only tools the policy shows are pinned. While the endpoint had no pins at start-up every
 * tool listed is recorded, also tools added later in the session; after that, a tool whose
 * description, input schema or annotations changed, or a tool not pinned, is hidden from
 * tools/list and its calls are refused until accepted with --accept-tool.
 */
import { PolicyError } from '../errors.js';
import { fileStamp } from '../file-stamp.js';
import type { Logger } from '../logging/logger.js';
import type { RelayHook, RequestContext, ServerVerdict } from '../relay/hooks.js';
import type { RemoteMessage } from '../transport/remote-transport.js';
import { changedParts, digestsOf, loadPins, updatePins, type Digests, type EndpointPins, type PinChange } from './pin-file.js';

export interface PinHookOptions {
  readonly file: string;
  /** The endpoint's key in the file (its masked origin and path). */
  readonly endpoint: string;
  readonly log: Logger;
}

type Entry = Record<string, unknown>;
const isEntry = (v: unknown): v is Entry => typeof v === 'object' && v !== null && !Array.isArray(v);

export function pinHook(opts: PinHookOptions): RelayHook & { flush(): Promise<void> } {
  const { file, endpoint, log } = opts;
  let pins: EndpointPins = loadPins(file, endpoint);
  let recording = Object.keys(pins).length === 0;
  let queued: PinChange[] = [];
  let saving: Promise<void> | undefined;
  // Read again on a tools/list when it changed: another process or --accept-tool wrote it.
  let lastRead = fileStamp([file]);

  function save(change: PinChange): void {
    change(pins);
    queued.push(change);
    saving ??= (async () => {
      // After the current list is judged: its changes are written in one go.
      await null;
      while (queued.length > 0) {
        const batch = queued;
        queued = [];
        try {
          const merged = await updatePins(file, endpoint, batch, () => log.warn({ file }, 'tool pins: another process held the pin file lock too long; updating without it (a concurrent update may be lost and recorded again later)'));
          for (const c of queued) c(merged);
          pins = merged;
          lastRead = fileStamp([file]);
        } catch (err) {
          log.error({ err: { code: (err as NodeJS.ErrnoException).code }, file }, 'the tool pin file could not be updated; pins stay in memory for this session');
        }
      }
      saving = undefined;
    })();
  }

  function refresh(): void {
    const stamp = fileStamp([file]);
    if (saving !== undefined || stamp === lastRead) return;
    try {
      pins = loadPins(file, endpoint);
      lastRead = stamp;
      // The endpoint's pins were deleted (README: delete to pin everything anew): record again.
      if (Object.keys(pins).length === 0) recording = true;
    } catch (err) {
      log.warn({ err }, 'the tool pin file cannot be read again; keeping the pins read before');
    }
  }

  /** Whether the client may see the tool; records or marks it as it goes. */
  function judge(name: string, now: Digests): boolean {
    const pin = pins[name];
    const accepted = pin?.accepted;
    if (accepted !== undefined && changedParts(accepted, now).length === 0) {
      if (pin?.pending !== undefined) save((p) => void (p[name] = { accepted }));
      return true;
    }
    if (recording && accepted === undefined) {
      save((p) => void (p[name] = { accepted: now }));
      log.info({ tool: name }, 'pinned a tool');
      return true;
    }
    const pending = pin?.pending;
    if (pending === undefined || changedParts(pending, now).length > 0) {
      const seen = new Date().toISOString();
      save((p) => {
        const current = p[name]?.accepted;
        // Accepted meanwhile (another process, --accept-tool): nothing is pending.
        if (current !== undefined && changedParts(current, now).length === 0) return;
        p[name] = { ...(current && { accepted: current }), pending: { ...now, seen } };
      });
      log.warn({ tool: name, changed: accepted === undefined ? 'new' : changedParts(accepted, now) }, 'hid a tool that is not pinned as the server lists it now');
    }
    return false;
  }

  async function filter(msg: RemoteMessage): Promise<ServerVerdict | undefined> {
    const value: unknown = JSON.parse(msg.bytes.toString('utf8'));
    if (!isEntry(value) || !isEntry(value.result) || !Array.isArray(value.result.tools)) return undefined;
    refresh();
    const tools = value.result.tools as unknown[];
    const kept = tools.filter((t) => isEntry(t) && typeof t.name === 'string' && judge(t.name, digestsOf(t)));
    // The client sees the list once what it shows is pinned on disk: a session that ends
    // right after listing must not leave tools unpinned (they would be "new" next time).
    while (saving !== undefined) await saving;
    if (kept.length === tools.length) return undefined;
    value.result.tools = kept;
    return { rewrite: Buffer.from(JSON.stringify(value)) };
  }

  return {
    name: 'tool pinning',
    onRequest(req: RequestContext) {
      if (req.method !== 'tools/call' || req.name === undefined) return undefined;
      const pin = pins[req.name];
      if (pin === undefined ? recording : pin.pending === undefined) return undefined;
      const what = pin?.accepted === undefined
        ? 'is new since the tools of this endpoint were pinned'
        : `changed since it was pinned (${pin.pending === undefined ? 'unknown' : changedParts(pin.accepted, pin.pending).join(', ')})`;
      return {
        refuse: new PolicyError(
          `tool "${req.name}" ${what}; it is hidden until accepted (--pin-tools ${file})`,
          '--pin-tools',
          `review the tool as the server lists it, then run mcp-signing-proxy with the same settings plus --accept-tool ${req.name} (or delete the pin file to pin everything anew)`,
        ),
      };
    },
    onServerMessage(msg: RemoteMessage, req: RequestContext | undefined) {
      return req?.method === 'tools/list' ? filter(msg) : undefined;
    },
    async flush() {
      while (saving !== undefined) await saving;
    },
  };
}
