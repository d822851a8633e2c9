import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { ErrorBody, HeraldNames } from '@herald/shared';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import type { RedisClient } from '../platform/redis-client';
import type { Limits, RateName } from './limits';

/**
 * Takes from a caller's budget: resolves with undefined when there was enough, or with the milliseconds
 * until there is again when the caller is over its limit.
 */
export type TakeFromBudget = (rate: RateName, key: string) => Promise<number | undefined>;

/** The `rate_limited` answer for a caller over its budget: `what` is too many, retry in `waitMs`. */
export function overBudget(waitMs: number, what: string): ErrorBody & { details: { retryAfterSeconds: number } } {
  const retryAfterSeconds = Math.ceil(waitMs / 1000);
  return { code: 'rate_limited', message: `Too many ${what}; retry in ${retryAfterSeconds} s.`, details: { retryAfterSeconds } };
}

/**
 * The rate limits of security/limits.ts, kept in Redis so every instance counts against the same
 * budgets (rate-limiter-flexible: one atomic script per take, fixed windows). While Redis is down or
 * reconnecting, each instance falls back to counting in its own memory, so a Redis outage neither
 * lifts the limits nor fails requests because of them.
 */
export function createRateLimiters(deps: {
  redis: RedisClient;
  names: HeraldNames;
  limits: Limits;
  metrics: Pick<Metrics, 'rateLimitedRequests'>;
  logger: Logger;
}): TakeFromBudget {
  const limiters = new Map<RateName, RateLimiterRedis>();
  for (const [name, rate] of Object.entries(deps.limits.rates) as [RateName, Limits['rates'][RateName]][]) {
    if (!rate) continue;
    const options = { points: rate.points, duration: rate.seconds };
    limiters.set(
      name,
      new RateLimiterRedis({
        ...options,
        storeClient: deps.redis,
        keyPrefix: deps.names.rateLimitKey(name),
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ ...options, keyPrefix: name }),
      }),
    );
  }
  let warnedFallback = false;
  return async (name, key) => {
    const limiter = limiters.get(name);
    if (!limiter) return undefined;
    try {
      await limiter.consume(key);
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
