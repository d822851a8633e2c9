import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { requestAddress, type CheckBudget } from '../http/rate-limit';
import { AppError } from '../platform/errors';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Express middleware admitting only callers that present one of `tokens` as
 * `Authorization: Bearer <token>`. Several tokens are accepted at once, so one
 * can be rotated without downtime (add the new one, move the callers, drop the
 * old one). With `check`, each token's requests spend its budget (serviceRequests, keyed by the
 * token's digest, never the token), and a refused token spends its address's (ipRequests).
 */
export function requireBearer(tokens: readonly string[], what = 'the service token', check?: CheckBudget): RequestHandler {
  const expected = tokens.map(digest);
  return async (req, res, next) => {
    const header = req.get('authorization');
    const match = /^Bearer (.+)$/i.exec(header ?? '');
    // Compare fixed-length digests so neither length nor content leaks through timing; check every one.
    const given = match?.[1] ? digest(match[1]) : undefined;
    let matched: Buffer | undefined;
    for (const candidate of expected) if (given && timingSafeEqual(given, candidate)) matched = candidate;
    if (!matched) {
      // Without a header, limitAnonymous has counted the request already.
      if (check && header) await check('ipRequests', requestAddress(req), res);
      throw new AppError('unauthorized', `This endpoint needs ${what}: Authorization: Bearer <token>.`);
    }
    await check?.('serviceRequests', matched.toString('hex').slice(0, 16), res);
    next();
  };
}
