import { Router } from 'express';
import { requireServiceToken } from '../auth/service-token';
import type { PublishNotification } from './notification-publisher';

/** `/api/notifications`: publishing is for backends holding the service token. */
export function notificationRoutes(deps: { publishNotification: PublishNotification; serviceToken: string }): Router {
  const router = Router();
  router.post('/', requireServiceToken(deps.serviceToken), async (req, res) => {
    const notifications = await deps.publishNotification(req.body);
    res.status(201).json({ notifications });
  });
  return router;
}
