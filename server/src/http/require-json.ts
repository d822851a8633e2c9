import type { RequestHandler } from 'express';
import { AppError } from '../platform/errors';

/**
 * Requests with a body must say it is JSON, in UTF-8, uncompressed: a form post, a text body, a
 * Latin-1 charset or a gzip body gets a clear 415 `unsupported_media_type` rather than "expected
 * object" or a 500 from a body the parser could not inflate.
 */
export const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = req.get('content-length') !== undefined ? req.get('content-length') !== '0' : req.get('transfer-encoding') !== undefined;
  if (!hasBody) {
    next();
    return;
  }
  if (!req.is('application/json')) {
    next(new AppError('unsupported_media_type', 'Send the body as JSON with Content-Type: application/json.'));
    return;
  }
  const encoding = (req.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') {
    next(
      new AppError('unsupported_media_type', `Content-Encoding "${encoding.slice(0, 40)}" is not accepted: send the body uncompressed.`),
    );
    return;
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.get('content-type') ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    next(new AppError('unsupported_media_type', `Charset "${charset.slice(0, 40)}" is not accepted: send the body as UTF-8.`));
    return;
  }
  next();
};
