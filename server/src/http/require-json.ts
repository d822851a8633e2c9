import type { RequestHandler } from 'express';
import { AppError } from '../platform/errors';

/** Requests with a body must say it is JSON, so a form post or text body gets a clear 415 rather than "expected object". */
export const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = req.get('content-length') !== undefined ? req.get('content-length') !== '0' : req.get('transfer-encoding') !== undefined;
  if (hasBody && !req.is('application/json')) {
    next(new AppError('unsupported_media_type', 'Send the body as JSON with Content-Type: application/json.'));
    return;
  }
  next();
};
