import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../platform/errors';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Express middleware admitting only callers that present one of `tokens` as
 * `Authorization: Bearer <token>`. Several tokens are accepted at once, so one
 * can be rotated without downtime (add the new one, move the callers, drop the
 * old one).
 */
export function requireBearer(tokens: readonly string[], what = 'the service token'): RequestHandler {
  const expected = tokens.map(digest);
  return (req, _res, next) => {
    const match = /^Bearer (.+)$/i.exec(req.get('authorization') ?? '');
    // Compare fixed-length digests so neither length nor content leaks through timing; check every one.
    const given = match?.[1] ? digest(match[1]) : undefined;
    let ok = false;
    for (const candidate of expected) if (given && timingSafeEqual(given, candidate)) ok = true;
    if (!ok) {
      next(new AppError('unauthorized', `This endpoint needs ${what}: Authorization: Bearer <token>.`));
      return;
    }
    next();
  };
}
