import { createHmac } from 'node:crypto';

/** Bound on derived keys kept: one signer uses one per day, plus STS's. */
const MAX_KEYS = 16;

export type SigningKeyFor = (secretAccessKey: string, shortDate: string, region: string, service: string) => Buffer;

export function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/**
 * The SigV4 signing key, HMAC-SHA256 chained over date, region, service and
 * `aws4_request`, derived once per secret, day, region and service: four HMACs saved on
 * every request but the first of the day.
 */
export function createSigningKeyCache(): SigningKeyFor {
  const keys = new Map<string, Buffer>();
  return (secretAccessKey, shortDate, region, service) => {
    const id = `${shortDate}\n${region}\n${service}\n${secretAccessKey}`;
    const cached = keys.get(id);
    if (cached !== undefined) return cached;
    let key = hmac(`AWS4${secretAccessKey}`, shortDate);
    for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
    if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value as string);
    keys.set(id, key);
    return key;
  };
}
