/**
 * A client that stopped reading stdout, then sends SIGTERM: the session is still closed on
 * the server (DELETE, spec: session management) and the proxy still exits promptly, although
 * the answers it owes can no longer be written.
 */
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { startMcpServer } from '../helpers/mcp-server.js';
import { initializedProxy } from '../helpers/spawn-proxy.js';

const TOKEN = 'CANARY-full-stdout-7d30';
const cleanups = useCleanups();

const call = (id: number, name: string, args: object) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}

describe('SIGTERM while stdout is full', () => {
  it('sends the DELETE and exits, although the answers it owes cannot be written', async () => {
    const s = await startMcpServer({ bearerToken: TOKEN });
    cleanups.push(() => s.close());
    const p = await initializedProxy({ MCP_ENDPOINT: s.url, MCP_BEARER_TOKEN: TOKEN }, cleanups);
    p.child.stdout.pause();
    // 8 MB of results fill the stdout pipe; the slow calls are still running at SIGTERM, so
    // the proxy owes them errors it cannot write.
    for (let id = 1; id <= 4; id++) p.send(call(id, 'big', { bytes: 2_000_000 }));
    for (let id = 5; id <= 7; id++) p.send(call(id, 'slow', { ms: 30_000 }));
    await until(() => s.requests.filter((r) => r.body.includes('"tools/call"')).length === 7);
    // Time for the big results to reach the proxy and back up into the pipe.
    await new Promise((r) => setTimeout(r, 500));

    p.child.kill('SIGTERM');
    const exit = await Promise.race([p.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 5000).unref())]);
    expect(exit === 'running' ? 'still running 5 s after SIGTERM' : 'exited').toBe('exited');
    const deletes = s.requests.filter((r) => r.method === 'DELETE');
    expect(deletes).toHaveLength(1);
    expect(deletes[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });
});
