import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import type { ErrorBody } from '@herald/shared';
import { overBudget, type TakeFromBudget } from '../security/rate-limiters';
import type { IoSocket } from './io-types';

/** A token bucket: `burst` events at once, refilled at `perSecond`. */
export interface RateLimitPolicy {
  /** @default 30 */
  burst: number;
  /** @default 10 */
  perSecond: number;
  /** Refused events in a row before the socket is disconnected. @default 50 */
  maxRefusedInARow: number;
}

export const defaultRateLimit: RateLimitPolicy = { burst: 30, perSecond: 10, maxRefusedInARow: 50 };

export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Refused since the last accepted event. */
  refusedInARow = 0;

  constructor(
    private readonly policy: RateLimitPolicy,
    now = Date.now(),
  ) {
    this.tokens = policy.burst;
    this.last = now;
  }

  /** Takes a token if there is one. */
  take(now = Date.now()): boolean {
    this.tokens = Math.min(this.policy.burst, this.tokens + ((now - this.last) / 1000) * this.policy.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.refusedInARow = 0;
      return true;
    }
    this.refusedInARow += 1;
    return false;
  }

  /** True once the client has kept flooding long enough to be cut off. */
  get exhausted(): boolean {
    return this.refusedInARow >= this.policy.maxRefusedInARow;
  }
}

/**
 * Socket middleware: every client event costs a token of the socket's bucket, then a point of its
 * user's budget over all their sockets and instances (userEvents, when `take` is given); a flood gets
 * `rate_limited` error acks, then (the socket's own bucket exhausted) the socket is told why and closed.
 */
export function rateLimitEvents(deps: {
  bucket(socket: IoSocket): TokenBucket | undefined;
  take?: TakeFromBudget;
  metrics: Pick<Metrics, 'rateLimited'>;
  logger: Logger;
}) {
  const refuse = (packet: unknown[], error: ErrorBody) => {
    const ack = packet.at(-1);
    if (typeof ack === 'function') (ack as (r: unknown) => void)({ error });
  };
  return (socket: IoSocket, packet: unknown[], next: (error?: Error) => void): void => {
    const bucket = deps.bucket(socket);
    if (!bucket || bucket.take()) {
      if (!deps.take) return next();
      // One budget per person, whichever feed the socket is on.
      deps.take('userEvents', socket.data.person ?? socket.data.userId).then(
        (waitMs) => {
          if (waitMs === undefined) return next();
          refuse(packet, overBudget(waitMs, 'events from this user'));
        },
        () => next(),
      );
      return;
    }
    deps.metrics.rateLimited.inc();
    refuse(packet, { code: 'rate_limited', message: 'Too many events; slow down.' });
    if (bucket.exhausted) {
      deps.logger.warn({ userId: socket.data.userId }, 'socket kept flooding events; disconnecting it');
      socket.emit('server:error', { code: 'rate_limited', message: 'Too many events: this connection was closed.' });
      socket.disconnect(true);
    }
  };
}
