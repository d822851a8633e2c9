import { RLWrapperTimeouts, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { ErrorBody, HeraldNames } from '@herald/shared';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import type { RedisClient } from '../platform/redis-client';
import type { Limits, RateName } from './limits';

/**
 * Takes `points` (default 1) from a caller's budget: resolves with undefined when there was enough, or
 * with the milliseconds until there is again when the caller is over its limit.
 */
export type TakeFromBudget = (rate: RateName, key: string, points?: number) => Promise<number | undefined>;

/** The `rate_limited` answer for a caller over its budget: `what` is too many, retry in `waitMs`. */
export function overBudget(waitMs: number, what: string): ErrorBody & { details: { retryAfterSeconds: number } } {
  const retryAfterSeconds = Math.ceil(waitMs / 1000);
  return { code: 'rate_limited', message: `Too many ${what}; retry in ${retryAfterSeconds} s.`, details: { retryAfterSeconds } };
}

/** How long a take waits for Redis before counting in this instance's memory instead. */
export const RATE_LIMIT_TIMEOUT_MS = 500;

/**
 * The rate limits of security/limits.ts, kept in Redis so every instance counts against the same
 * budgets (rate-limiter-flexible: one atomic script per take, fixed windows). While Redis is down,
 * reconnecting or stalled (no answer within RATE_LIMIT_TIMEOUT_MS), each instance falls back to
 * counting in its own memory, so a Redis outage neither lifts the limits nor fails or holds up
 * requests and handshakes because of them.
 */
export function createRateLimiters(deps: {
  redis: RedisClient;
  names: HeraldNames;
  limits: Limits;
  metrics: Pick<Metrics, 'rateLimitedRequests'>;
  logger: Logger;
}): TakeFromBudget {
  const limiters = new Map<RateName, RLWrapperTimeouts>();
  for (const [name, rate] of Object.entries(deps.limits.rates) as [RateName, Limits['rates'][RateName]][]) {
    if (!rate) continue;
    const options = { points: rate.points, duration: rate.seconds };
    const shared = new RateLimiterRedis({
      ...options,
      storeClient: deps.redis,
      keyPrefix: deps.names.rateLimitKey(name),
      rejectIfRedisNotReady: true,
    });
    limiters.set(
      name,
      new RLWrapperTimeouts({
        limiter: shared,
        timeoutMs: RATE_LIMIT_TIMEOUT_MS,
        insuranceLimiter: new RateLimiterMemory({ ...options, keyPrefix: name }),
      }),
    );
  }
  let warnedFallback = false;
  return async (name, key, points = 1) => {
    const limiter = limiters.get(name);
    if (!limiter || points <= 0) return undefined;
    try {
      await limiter.consume(key, points);
      return undefined;
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        deps.metrics.rateLimitedRequests.inc({ limit: name });
        return Math.max(1, error.msBeforeNext);
      }
      // Only if even the in-memory fallback failed: let the caller through rather than fail its request.
      if (!warnedFallback) deps.logger.warn({ err: error, limit: name }, 'rate limit could not be checked; allowing');
      warnedFallback = true;
      return undefined;
    }
  };
}
