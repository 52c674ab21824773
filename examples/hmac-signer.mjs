// A signer module for mcp-signing-proxy (README "Your own signer"): signs every request with
// HMAC-SHA256 over the method, the path with its query, a timestamp and the body's digest.
//
//   HMAC_SIGNER_SECRET=... mcp-signing-proxy https://api.example.com/mcp --signer-module ./hmac-signer.mjs
//
// String to sign (one value per line):
//   METHOD \n /path?query \n unix-seconds \n hex(sha256(body))
// Headers sent:
//   x-signature-timestamp: unix-seconds
//   x-content-sha256:      hex(sha256(body))
//   x-signature:           keyId=<HMAC_SIGNER_KEY_ID>,signature=<hex(hmac)>   (keyId only when set)
//
// The proxy runs it last, on every attempt (a retry is signed afresh), with the exact body
// bytes that go on the wire. It never prints the secret: errors thrown here are reported by
// their class only.
import { createHash, createHmac } from 'node:crypto';

const secret = process.env.HMAC_SIGNER_SECRET;
const keyId = process.env.HMAC_SIGNER_KEY_ID;

export async function sign(request, ctx) {
  if (!secret) {
    // code + hint: the proxy shows this message to the user (it holds no secret).
    throw Object.assign(new Error('HMAC_SIGNER_SECRET is not set'), { code: 'HMAC_SIGNER_SECRET', hint: 'set HMAC_SIGNER_SECRET in the env block of this server' });
  }
  const timestamp = String(Math.floor(ctx.now() / 1000));
  const digest = createHash('sha256').update(request.body ?? new Uint8Array()).digest('hex');
  const toSign = [request.method, request.url.pathname + request.url.search, timestamp, digest].join('\n');
  const signature = createHmac('sha256', secret).update(toSign).digest('hex');
  return {
    ...request,
    headers: {
      ...request.headers,
      'x-signature-timestamp': timestamp,
      'x-content-sha256': digest,
      'x-signature': keyId ? `keyId=${keyId},signature=${signature}` : `signature=${signature}`,
    },
  };
}
