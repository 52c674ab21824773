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

export function headerValue(value: string): string {
  if (PLAIN.test(value) && !EDGE_SPACE.test(value) && !LOOKS_ENCODED.test(value)) return value;
  return `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}
