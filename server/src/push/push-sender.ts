import { Agent } from 'node:https';
import webpush, { WebPushError } from 'web-push';
import type { PushConfig } from '../off-page-config';
import type { PushTarget } from './push-subscriptions';

/** What one Web Push message says and how the push service should treat it. */
export interface PushMessage {
  /** JSON the service worker reads (encrypted to the subscription's keys, RFC 8291 aes128gcm). */
  payload: string;
  /** How long the push service keeps it for a device that is offline. */
  ttlSeconds: number;
  /** `high` wakes a sleeping phone at once (critical categories); `normal` may wait. */
  urgency: 'normal' | 'high';
  /** The push service keeps only the latest message of a topic not yet delivered (a group's newest). */
  topic?: string;
}

/**
 * What came of one message:
 * - `sent`: the push service took it (201);
 * - `gone`: the subscription no longer exists (404, 410): forget it;
 * - `retry`: the push service is busy or failing (429, 5xx, no answer): try again after `afterMs`
 *   (its `Retry-After` when it gave one);
 * - `refused`: any other answer (a 4xx, a redirect, which is not followed): trying again will not help.
 */
export type PushOutcome =
  | { status: 'sent' }
  | { status: 'gone'; statusCode: number }
  | { status: 'retry'; afterMs?: number; reason: string }
  | { status: 'refused'; reason: string };

/** How long one request to a push service may take. */
const REQUEST_TIMEOUT_MS = 10_000;
/** A VAPID token is signed for 12 hours and signed again an hour before it ends (RFC 8292 allows 24). */
const VAPID_TOKEN_SECONDS = 12 * 3600;
const VAPID_RENEW_SECONDS = 3600;
/** Push-service origins whose token is kept at once (a few in practice; Windows' are per region). */
const MAX_AUDIENCES = 1000;

/** Seconds or an HTTP date, as `Retry-After` says; undefined when it says neither. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Sends Web Push messages with web-push (VAPID, RFC 8292; payload encryption, RFC 8291), over one
 * keep-alive agent so a burst to one push service reuses its connections. The VAPID token of each push
 * service is signed once and reused until shortly before it expires, instead of an ECDSA signature per
 * message (a third of the sending CPU in the bench). Never throws: every answer is an outcome.
 */
export function createPushSender(
  config: PushConfig,
): (target: Pick<PushTarget, 'endpoint' | 'keys'>, message: PushMessage) => Promise<PushOutcome> {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const tokens = new Map<string, { authorization: string; expiresAt: number }>();
  /** The Authorization header for a push service: `vapid t=<JWT for its origin>, k=<public key>`. */
  const authorizationFor = (endpoint: string): string => {
    const audience = new URL(endpoint).origin;
    const now = Math.floor(Date.now() / 1000);
    const kept = tokens.get(audience);
    if (kept && kept.expiresAt - now > VAPID_RENEW_SECONDS) return kept.authorization;
    const expiresAt = now + VAPID_TOKEN_SECONDS;
    const { vapid } = config;
    const { Authorization } = webpush.getVapidHeaders(audience, vapid.subject, vapid.publicKey, vapid.privateKey, 'aes128gcm', expiresAt);
    if (tokens.size >= MAX_AUDIENCES) tokens.clear();
    tokens.set(audience, { authorization: Authorization, expiresAt });
    return Authorization;
  };
  return async (target, message) => {
    try {
      await webpush.sendNotification({ endpoint: target.endpoint, keys: target.keys }, message.payload, {
        // Signed here once per push service (see authorizationFor), so web-push is given no VAPID keys.
        headers: { Authorization: authorizationFor(target.endpoint) },
        TTL: message.ttlSeconds,
        urgency: message.urgency,
        ...(message.topic ? { topic: message.topic } : {}),
        contentEncoding: 'aes128gcm',
        timeout: REQUEST_TIMEOUT_MS,
        agent,
      });
      return { status: 'sent' };
    } catch (error) {
      if (!(error instanceof WebPushError)) return { status: 'retry', reason: error instanceof Error ? error.message : 'no answer' };
      const { statusCode } = error;
      if (statusCode === 404 || statusCode === 410) return { status: 'gone', statusCode };
      if (statusCode === 429 || statusCode >= 500) {
        const afterMs = retryAfterMs(error.headers['retry-after']);
        return { status: 'retry', reason: `push service answered ${statusCode}`, ...(afterMs !== undefined ? { afterMs } : {}) };
      }
      return { status: 'refused', reason: `push service answered ${statusCode}` };
    }
  };
}
