/**
 * Header values mirrored from the body (Mcp-Name, Mcp-Param-*), per MCP 2026-07-28
 * Streamable HTTP, "Request Metadata"
 * (https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http):
 * visible ASCII, space and tab go as they are; anything else — non-ASCII, control
 * characters, leading or trailing whitespace — and a plain value that looks like the
 * encoded form go as `=?base64?<base64 of the UTF-8 bytes>?=`. A required header is never
 * dropped because its value is unsafe.
 */
const PLAIN = /^[\x20-\x7e\t]*$/;
const EDGE_SPACE = /^[ \t]|[ \t]$/;
const LOOKS_ENCODED = /^=\?base64\?.*\?=$/i;

/**
 * Longest mirrored value sent. Servers cap a request's headers at 8–16 KiB (Node: 16 KiB)
 * and answer 431 past that, so a longer one would lose the request itself; it is left out
 * (the body still carries the value, and a server that requires the header says so).
 */
const MAX_HEADER_VALUE = 4096;

export function headerValue(value: string): string | undefined {
  const sent = PLAIN.test(value) && !EDGE_SPACE.test(value) && !LOOKS_ENCODED.test(value) ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
  return sent.length <= MAX_HEADER_VALUE ? sent : undefined;
}
