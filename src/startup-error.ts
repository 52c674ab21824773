import { ProxyError, toJsonRpcError } from './errors.js';
import { scrubSecrets } from './logging/safe-url.js';
import { errorResponse } from './jsonrpc.js';

/**
 * How long a failed start waits for the host's first request. Hosts write `initialize` as
 * soon as they spawn the server, so it is normally already in the pipe.
 */
const FIRST_REQUEST_WAIT_MS = 2000;
/** Stop looking for a request after this much input without one. */
const MAX_SCAN_BYTES = 1024 * 1024;

/** The two-line stderr form: what failed, then the fix. */
function stderrText(err: unknown): string {
  // Scrubbed like the JSON-RPC answer: errors from signer or TLS set-up come after secrets are known.
  if (err instanceof ProxyError) return `mcp-signing-proxy: ${scrubSecrets(err.message)}\n${err.hint ? `  fix: ${scrubSecrets(err.hint)}\n` : ''}`;
  return `mcp-signing-proxy: failed to start (${err instanceof Error ? err.name : 'error'})\n`;
}

/** The id of the first JSON-RPC request on `input`, or undefined at EOF, timeout or too much input. */
function firstRequestId(input: NodeJS.ReadStream, waitMs: number): Promise<string | number | undefined> {
  return new Promise((resolve) => {
    let pending = '';
    let scanned = 0;
    const finish = (id: string | number | undefined): void => {
      clearTimeout(timer);
      input.off('data', onData).off('end', onEnd).off('error', onEnd);
      input.pause();
      resolve(id);
    };
    const onEnd = (): void => finish(undefined);
    const onData = (chunk: Buffer): void => {
      scanned += chunk.length;
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        const id = requestId(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        if (id !== undefined) return finish(id);
      }
      if (scanned > MAX_SCAN_BYTES) finish(undefined);
    };
    const timer = setTimeout(onEnd, waitMs);
    input.on('data', onData).on('end', onEnd).on('error', onEnd);
  });
}

function requestId(line: string): string | number | undefined {
  let msg: unknown;
  try {
    // As the relay reads lines: a BOM and a CR line end are not part of the message.
    msg = JSON.parse(line.replace(/^\uFEFF/, '').replace(/\r$/, ''));
  } catch {
    return undefined;
  }
  if (typeof msg !== 'object' || msg === null || !('method' in msg) || !('id' in msg)) return undefined;
  const { id } = msg;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}

/**
 * Ends a start that cannot go on. The message goes to stderr, and, because hosts show
 * only "failed to connect" for a server that exits (the stderr text sits in a log file),
 * also to the client as the error answer to its first request, normally `initialize`,
 * so the host displays the cause and the fix. Skipped for a terminal (a person reads
 * stderr) and for `--check`, whose stdin is not an MCP client.
 */
export async function failStartup(err: unknown, { answerClient }: { answerClient: boolean }): Promise<never> {
  process.stderr.write(stderrText(err));
  if (answerClient && !process.stdin.isTTY) {
    const id = await firstRequestId(process.stdin, FIRST_REQUEST_WAIT_MS);
    if (id !== undefined) {
      const line = `${errorResponse(id, toJsonRpcError(err))}\n`;
      await new Promise<void>((resolve) => process.stdout.write(line, () => resolve()));
    }
  }
  process.exit(2);
}
