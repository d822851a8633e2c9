import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, toErrorBody } from '../platform/errors';
import type { Logger } from '../platform/logger';

/** Unknown /api routes answer in the API's error shape, not express's HTML page. */
export const apiNotFound: RequestHandler = (req, _res, next) => {
  next(new AppError('not_found', `No route for ${req.method} ${req.path}.`));
};

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

const isClientErrorStatus = (status: unknown): boolean => typeof status === 'number' && status >= 400 && status < 500;

/** What a 503 (database or a dependency unavailable) tells the caller to wait before retrying. */
const RETRY_AFTER_SECONDS = 5;

/** Maps everything thrown in a route to the error shape; unknown errors are logged in full and answered as `internal`. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  const log = logger.child({ module: 'http' });
  return (error: unknown, req, res, _next) => {
    let mapped: unknown = error;
    const parserError = error as BodyParserError;
    if (parserError?.type === 'entity.too.large') {
      mapped = new AppError('payload_too_large', 'The request body is too large.');
    } else if (parserError?.type === 'entity.parse.failed') {
      mapped = new AppError('invalid_json', 'The request body is not valid JSON.');
    } else if (parserError?.type && typeof parserError.status === 'number' && parserError.status < 500) {
      mapped = new AppError('validation_failed', 'The request body could not be read.', { status: parserError.status });
    } else if (!(error instanceof AppError) && isClientErrorStatus(parserError?.status)) {
      // Express's own refusals of a request (a path with a malformed %-escape): the client's fault, not ours.
      log.debug({ err: error, method: req.method, path: req.path }, 'request refused');
      mapped = new AppError('validation_failed', 'The request could not be read (its path or query is malformed).');
    }
    const { status, body } = toErrorBody(mapped);
    if (status >= 500) log.error({ err: error, method: req.method, path: req.path, code: body.code }, 'request failed');
    if (res.headersSent) return;
    // Unavailable or busy for now: say when to come back (the rate limiter sets its own for 429).
    const retryAfter = (body.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (!res.getHeader('Retry-After')) {
      if (typeof retryAfter === 'number') res.setHeader('Retry-After', String(retryAfter));
      else if (status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    }
    res.status(status).json({ error: body });
  };
}
