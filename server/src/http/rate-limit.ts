import type { Request, RequestHandler, Response } from 'express';
import { AppError } from '../platform/errors';
import type { RateName } from '../security/limits';
import { overBudget, type TakeFromBudget } from '../security/rate-limiters';

/**
 * Checks one caller's budget for an HTTP request (`points`, default 1): returns when there was enough;
 * otherwise sets `Retry-After` and throws `429 rate_limited`.
 */
export type CheckBudget = (rate: RateName, key: string, res: Response, points?: number) => Promise<void>;

/** The HTTP side of the rate limits (see security/rate-limiters.ts). */
export function budgetCheck(take: TakeFromBudget): CheckBudget {
  return async (rate, key, res, points) => {
    const waitMs = await take(rate, key, points);
    if (waitMs === undefined) return;
    const body = overBudget(waitMs, 'requests');
    res.setHeader('Retry-After', String(body.details.retryAfterSeconds));
    throw new AppError(body.code, body.message, { details: body.details });
  };
}

/** The client's address as the app's `trust proxy` setting reads it. */
export function requestAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** Requests that carry no credentials at all spend their address's budget (ipRequests). */
export function limitAnonymous(check: CheckBudget): RequestHandler {
  return async (req, res, next) => {
    if (!req.get('authorization')) await check('ipRequests', requestAddress(req), res);
    next();
  };
}
