import { Router, type RequestHandler } from 'express';
import { currentUser, requireUser } from '../auth/require-user';
import type { Authenticator } from '../auth/authenticate';
import { idParam } from '../http/id-param';
import type { NotificationFeed } from './notification-feed';
import type { PublishNotification } from './notification-publisher';

export interface NotificationRouteDeps {
  publishNotification: PublishNotification;
  feed: NotificationFeed;
  authenticate: Authenticator;
  /** Admits backends holding a service token. */
  requireService: RequestHandler;
}

/**
 * `/api/notifications`: publishing is for backends holding the service token;
 * everything else is the signed-in user's own feed.
 */
export function notificationRoutes(deps: NotificationRouteDeps): Router {
  const router = Router();
  const user = requireUser(deps.authenticate);
  const { feed } = deps;

  router.post('/', deps.requireService, async (req, res) => {
    const key = req.get('idempotency-key');
    const result = await deps.publishNotification(req.body, key === undefined ? {} : { idempotencyKey: key });
    res.status(201).json({
      notifications: result.notifications,
      instancesReached: result.instancesReached,
      ...(result.mutedUserIds.length > 0 ? { mutedUserIds: result.mutedUserIds } : {}),
    });
  });

  router.get('/', user, async (req, res) => {
    res.json(await feed.list(currentUser(res).userId, req.query));
  });
  router.get('/counts', user, async (_req, res) => {
    res.json(await feed.counts(currentUser(res).userId));
  });
  router.post('/read-all', user, async (_req, res) => {
    res.json({ counts: await feed.readAll(currentUser(res).userId) });
  });
  router.post('/seen', user, async (_req, res) => {
    res.json({ counts: await feed.seenAll(currentUser(res).userId) });
  });

  const actions = { read: feed.read, unread: feed.unread, archive: feed.archive, unarchive: feed.unarchive } as const;
  for (const [action, run] of Object.entries(actions)) {
    router.post(`/:id/${action}`, user, async (req, res) => {
      res.json(await run(currentUser(res).userId, idParam(req.params.id)));
    });
  }
  router.delete('/:id', user, async (req, res) => {
    res.json({ counts: await feed.remove(currentUser(res).userId, idParam(req.params.id)) });
  });
  return router;
}
