import { z } from 'zod';

/** Push subscriptions one user keeps at most; registering one more drops their oldest. */
export const MAX_PUSH_SUBSCRIPTIONS_PER_USER = 10;

/** The bytes of a base64url string as a binary string (atob: in browsers and Node alike), or undefined. */
function decodeBase64url(value: string): string | undefined {
  try {
    return atob(value.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    return undefined;
  }
}

/**
 * Whether `value` is a key in base64url (padding optional) of exactly `bytes` bytes, and with `first` as
 * its first byte when given (0x04: an uncompressed P-256 public key): subscription keys, VAPID keys.
 */
export function isBase64urlKey(value: string, bytes: number, first?: number): boolean {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(value)) return false;
  const decoded = decodeBase64url(value);
  return decoded !== undefined && decoded.length === bytes && (first === undefined || decoded.charCodeAt(0) === first);
}

function base64urlKey(bytes: number, what: string, first?: number) {
  return z
    .string()
    .max(200)
    .refine((value) => isBase64urlKey(value, bytes, first), `must be ${what}, base64url-encoded`);
}

/**
 * A browser's `PushSubscription.toJSON()`: where its push service takes messages for this browser, and
 * the keys they are encrypted with (RFC 8291). `expirationTime` is accepted and ignored.
 */
export const pushSubscriptionInputSchema = z.object({
  endpoint: z.string().max(2048, 'must be at most 2048 characters').url('must be a URL'),
  expirationTime: z.number().nullable().optional(),
  keys: z
    .object({
      p256dh: base64urlKey(65, 'an uncompressed P-256 public key (65 bytes)', 0x04),
      auth: base64urlKey(16, 'a 16-byte secret'),
    })
    .strict(),
});

export type PushSubscriptionInput = z.input<typeof pushSubscriptionInputSchema>;

export const pushUnsubscribeInputSchema = z.object({ endpoint: z.string().max(2048).url('must be a URL') }).strict();
