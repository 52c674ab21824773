import { ProtocolError, ProxyError } from '../../errors.js';
import type { ClientMessageInfo } from '../../jsonrpc.js';
import type { Logger } from '../../logging/logger.js';
import { sleep } from '../abortable-sleep.js';
import { messageValue, type Deliver } from '../remote-transport.js';

export const LISTEN = 'subscriptions/listen';

/** When a dropped listen is sent again, and when the proxy stops trying. */
export interface ListenRetry {
  /** Pause before the first re-issue; it doubles per failure, up to 30 s. */
  firstPauseMs: number;
  /** Failed attempts in a row (streams that end within HEALTHY_MS, errors) before giving up. */
  maxFailures: number;
}

export const LISTEN_RETRY: ListenRetry = { firstPauseMs: 500, maxFailures: 8 };
/** A listen stream that stayed open this long was healthy: its end starts the count afresh. */
const HEALTHY_MS = 10_000;
const MAX_PAUSE_MS = 30_000;

/**
 * Holds one `subscriptions/listen` request open for the client (MCP 2026-07-28,
 * https://modelcontextprotocol.io/specification/2026-07-28/basic/patterns/subscriptions).
 * `post` sends the client's request once and relays what arrives on its stream as it
 * arrives. The stream ends for good when the server answers the request (graceful close),
 * the server sends `notifications/cancelled` for it (teardown), or the client cancels
 * (`signal`). A stream that closes without any of these is an unexpected disconnect: the
 * same request is sent again — streams are not resumable with Last-Event-ID in this
 * revision (https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http) —
 * with a growing pause, and after `maxFailures` failures in a row the client's request
 * is answered with an error saying so.
 */
export async function holdListen(
  post: (deliver: Deliver) => Promise<void>,
  info: ClientMessageInfo,
  deliver: Deliver,
  isAnswered: () => boolean,
  signal: AbortSignal,
  log: Logger,
  retry: ListenRetry = LISTEN_RETRY,
): Promise<void> {
  let tornDown = false;
  const watching: Deliver = (m) => {
    if (m.info?.kind === 'notification' && m.info.method === 'notifications/cancelled') {
      const requestId = (messageValue(m) as { params?: { requestId?: unknown } }).params?.requestId;
      if (requestId === info.id) tornDown = true;
    }
    return deliver(m);
  };
  const over = () => isAnswered() || signal.aborted || tornDown;
  let failures = 0;
  for (;;) {
    const opened = Date.now();
    let error: unknown;
    try {
      await post(watching);
    } catch (err) {
      error = err;
    }
    if (over()) return;
    if (error !== undefined && !worthReissuing(error)) throw error;
    failures = Date.now() - opened >= HEALTHY_MS ? 1 : failures + 1;
    if (failures >= retry.maxFailures) {
      throw new ProtocolError('ESP_LISTEN_LOST', `the server's ${LISTEN} stream closed ${failures} times in a row without ending the subscription; the proxy stopped sending it again`, {
        hint: 'change notifications (list_changed, resources/updated) no longer arrive: the client may listen again; check the server logs and any gateway idle timeout on the way',
        cause: error,
      });
    }
    const pauseMs = Math.min(MAX_PAUSE_MS, retry.firstPauseMs * 2 ** (failures - 1));
    log.warn({ id: info.id, failures, pauseMs, code: (error as ProxyError | undefined)?.code }, `the ${LISTEN} stream closed without ending the subscription; sending the request again`);
    await sleep(pauseMs, signal);
    if (over()) return;
  }
}

/**
 * A stream that broke or ended, a network failure, an overloaded or failing server: worth
 * another try. Any other HTTP status (400 with a JSON-RPC error, 401/403 after the signers'
 * refresh, 404/405) is the server's answer, and it will not change by asking again.
 */
function worthReissuing(err: unknown): boolean {
  if (!(err instanceof ProxyError)) return false;
  const status = err.httpStatus;
  return status === undefined || status === 429 || status >= 500;
}
