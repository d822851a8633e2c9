import { Router, type RequestHandler } from 'express';
import type { Authenticator } from '../auth/authenticate';
import { userIdParam } from '../http/id-param';
import { AppError } from '../platform/errors';
import type { RecipientService } from './recipient-service';

/**
 * `/api/recipients/:userId` for backends (the service token): set, read and forget what Herald knows
 * of a user to reach them off the page.
 */
export function recipientRoutes(deps: {
  recipients: RecipientService;
  requireService: RequestHandler;
  authenticate: Authenticator;
}): Router {
  const router = Router();
  router.use(serviceOnly(deps.requireService, deps.authenticate));

  router.put('/:userId', async (req, res) => {
    const { recipient, created } = await deps.recipients.set(userIdParam(req.params.userId), req.body);
    res.status(created ? 201 : 200).json(recipient);
  });
  router.get('/:userId', async (req, res) => {
    const recipient = await deps.recipients.get(userIdParam(req.params.userId));
    if (!recipient) throw new AppError('not_found', 'No recipient was set for this user.');
    res.json(recipient);
  });
  router.delete('/:userId', async (req, res) => {
    await deps.recipients.forget(userIdParam(req.params.userId));
    res.status(204).end();
  });
  return router;
}

/**
 * The service token passes. A user's own valid token is refused with 403, not 401: it is a good token,
 * only not one that may vouch for an email address. Anything else gets the service check's 401.
 */
function serviceOnly(requireService: RequestHandler, authenticate: Authenticator): RequestHandler {
  return async (req, res, next) => {
    try {
      await requireService(req, res, next);
    } catch (error) {
      const token = /^Bearer (.+)$/i.exec(req.get('authorization') ?? '')?.[1];
      const user = token
        ? await authenticate(token, { transport: 'http', ...(req.ip ? { address: req.ip } : {}) }).catch(() => null)
        : null;
      throw user ? new AppError('forbidden', 'Recipients are set by your backend with a service token, not by a user’s own.') : error;
    }
  };
}
