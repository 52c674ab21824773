import { createRequire } from 'node:module';
import type * as Undici from 'undici';

/**
 * The parts of undici we use, loaded one by one, and only when a proxy from the
 * environment applies (dispatcher.ts imports this module then). `import 'undici'` loads
 * fetch, WebSocket, EventSource, the cache and the mock agents too: ~95 ms of start-up on
 * Node 20 against ~30 ms for these, and the host starts us at every session.
 * The types still come from the package's own declarations.
 */
const require = createRequire(import.meta.url);

const DispatcherBase: typeof Undici.Dispatcher = require('undici/lib/dispatcher/dispatcher.js');
export const Agent: typeof Undici.Agent = require('undici/lib/dispatcher/agent.js');
export const EnvHttpProxyAgent: typeof Undici.EnvHttpProxyAgent = require('undici/lib/dispatcher/env-http-proxy-agent.js');

const api = {
  request: require('undici/lib/api/api-request.js') as (this: Undici.Dispatcher, opts: Undici.Dispatcher.RequestOptions) => Promise<Undici.Dispatcher.ResponseData>,
  connect: require('undici/lib/api/api-connect.js') as Undici.Dispatcher['connect'],
};
// What undici's index.js does, for the two methods we use: the API methods live on
// Dispatcher.prototype. ProxyAgent needs `connect` from there to open its CONNECT tunnel.
Object.assign(DispatcherBase.prototype, api);

// An undici dispatcher is an HttpAgent (http-agent.ts): `request()` (undici's, no
// fetch/WHATWG streams: about half the per-call cost), `close()` and `destroy()`. The
// names below keep the signers' type imports; new code imports from http-agent.ts.
export type { HttpAgent as Dispatcher, AgentResponse as ResponseData } from './http-agent.js';
