import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../platform/errors';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Express middleware admitting only backends that present `Authorization: Bearer <SERVICE_TOKEN>`. */
export function requireServiceToken(serviceToken: string): RequestHandler {
  const expected = digest(serviceToken);
  return (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer (.+)$/i.exec(header);
    // Compare fixed-length digests so neither length nor content leaks through timing.
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      next(new AppError('unauthorized', 'This endpoint needs the service token: Authorization: Bearer <SERVICE_TOKEN>.'));
      return;
    }
    next();
  };
}
