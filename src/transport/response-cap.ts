/**
 * The largest message the proxy takes from the server (README "Response caps"): a JSON
 * body, or one event of an event stream. Checked while the bytes arrive, so a message over
 * the cap is never held whole; the request is answered with an error instead.
 */
import { UpstreamNetworkError } from '../errors.js';

/**
 * Without --max-response-bytes, compressed bodies still stop here: a few KiB of gzip can
 * decode to gigabytes. 512 MiB is V8's longest string (2^29 - 24 UTF-16 units): no
 * JavaScript host can even read a longer message, so a body past it is an attack or a
 * fault. Plain bodies cost the server the bandwidth and are not capped by default.
 */
export const DECODED_CEILING = 512 * 1024 * 1024;

export interface MessageCap {
  readonly limit: number;
  /** Set with --max-response-bytes (else the ceiling for decoded bodies). */
  readonly configured: boolean;
}

/** A message over the cap. Reported like a body that broke off: the rest was not received. */
export class ResponseTooLargeError extends UpstreamNetworkError {}

/** `bytes`: the size known so far (`exact` when a Content-Length gave it). */
export function tooLarge(bytes: number, exact: boolean, cap: MessageCap): ResponseTooLargeError {
  const size = `${exact ? '' : 'at least '}${bytes} bytes`;
  if (cap.configured) {
    return new ResponseTooLargeError('ESP_RESPONSE_TOO_LARGE', `the server's message is ${size}, over --max-response-bytes ${cap.limit}; the rest was discarded`, {
      hint: `raise --max-response-bytes / MCP_MAX_RESPONSE_BYTES above ${bytes} (or unset it), or ask the tool for less`,
    });
  }
  return new ResponseTooLargeError('ESP_RESPONSE_TOO_LARGE', `the server's compressed message decodes to ${size}, over the proxy's ceiling of ${cap.limit} bytes for compressed bodies; the rest was discarded`, {
    hint: 'no host can read a message this large; if the server really sends one, check the server (a decompression bomb?)',
  });
}
