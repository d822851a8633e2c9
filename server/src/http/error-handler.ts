import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, PersistenceError, isDatabaseUnavailable, toErrorBody } from '../errors';
import type { Logger } from '../logger';

/** Unknown /api routes answer in the API's error shape, not express's HTML page. */
export const apiNotFound: RequestHandler = (req, _res, next) => {
  next(new AppError('not_found', `No route for ${req.method} ${req.path}.`, 404));
};

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

/** Maps everything thrown in a route to the error shape; unknown errors are logged in full and answered as `internal`. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  const log = logger.child({ module: 'http' });
  return (error: unknown, req, res, _next) => {
    let mapped: unknown = error;
    const parserError = error as BodyParserError;
    if (parserError?.type === 'entity.too.large') {
      mapped = new AppError('payload_too_large', 'The request body is too large.', 413);
    } else if (parserError?.type === 'entity.parse.failed') {
      mapped = new AppError('invalid_json', 'The request body is not valid JSON.', 400);
    } else if (parserError?.type && typeof parserError.status === 'number' && parserError.status < 500) {
      mapped = new AppError('validation_failed', 'The request body could not be read.', parserError.status);
    } else if (!(error instanceof AppError) && isDatabaseUnavailable(error)) {
      mapped = new PersistenceError('The database is unavailable right now. Try again shortly.', error);
    }
    const { status, body } = toErrorBody(mapped);
    if (status >= 500) log.error({ err: error, method: req.method, path: req.path, code: body.code }, 'request failed');
    if (res.headersSent) return;
    res.status(status).json({ error: body });
  };
}
