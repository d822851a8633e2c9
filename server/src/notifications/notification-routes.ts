import { Router, type Request, type RequestHandler, type Response } from 'express';
import { actionIdSchema, readRequestSchema } from '@herald/shared';
import { currentUser } from '../auth/require-user';
import { ValidationError } from '../platform/errors';
import { idParam, userIdParam } from '../http/id-param';
import type { NotificationFeed } from './notification-feed';
import type { PublishNotification } from './notification-publisher';

export interface NotificationRouteDeps {
  publishNotification: PublishNotification;
  feed: NotificationFeed;
  /** Admits signed-in users (requireUser). */
  requireUser: RequestHandler;
  /** Admits backends holding a service token. */
  requireService: RequestHandler;
}

/**
 * `/api/notifications`: publishing is for backends holding the service token;
 * everything else is the signed-in user's own feed.
 */
export function notificationRoutes(deps: NotificationRouteDeps): Router {
  const router = Router();
  router.post('/', deps.requireService, async (req, res) => {
    const key = req.get('idempotency-key');
    const result = await deps.publishNotification(req.body, key === undefined ? {} : { idempotencyKey: key });
    // The answer of an earlier request with this key, stored and sent then (nothing new now).
    if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(201).json({
      notifications: result.notifications,
      instancesReached: result.instancesReached,
      ...(result.mutedUserIds.length > 0 ? { mutedUserIds: result.mutedUserIds } : {}),
      ...(result.deduplicatedUserIds.length > 0 ? { deduplicatedUserIds: result.deduplicatedUserIds } : {}),
    });
  });
  router.use(feedRoutes(deps.feed, deps.requireUser, (_req, res) => currentUser(res).userId));
  return router;
}

/**
 * `/api/users/:userId/notifications` for backends holding a service token: the same feed routes, acting
 * for that user (counts, list, read/unread/seen/archive, read-all, delete), pushed live to the user's
 * sockets like any other change.
 */
export function userNotificationRoutes(deps: Pick<NotificationRouteDeps, 'feed' | 'requireService'>): Router {
  return feedRoutes(deps.feed, deps.requireService, (req) => userIdParam(req.params.userId));
}

/** One user's feed routes, behind `guard`; `userOf` says whose feed a request is about. */
function feedRoutes(feed: NotificationFeed, guard: RequestHandler, userOf: (req: Request, res: Response) => string): Router {
  const router = Router({ mergeParams: true });
  router.use(guard);
  router.get('/', async (req, res) => {
    res.json(await feed.list(userOf(req, res), req.query));
  });
  router.get('/counts', async (req, res) => {
    res.json(await feed.counts(userOf(req, res)));
  });
  // Counts per named filter: `{ filters: { social: { category: 'social' } } }` -> `{ counts: { social: { unread, unseen } } }`.
  router.post('/counts', async (req, res) => {
    res.json({ counts: await feed.countsFor(userOf(req, res), req.body) });
  });
  router.post('/read-all', async (req, res) => {
    res.json({ counts: await feed.readAll(userOf(req, res)) });
  });
  // No body: everything is seen (the bell was opened). `{ ids }`: those were shown (per-item seen).
  router.post('/seen', async (req, res) => {
    const body: unknown = req.body;
    if (body && typeof body === 'object' && Object.keys(body).length > 0) {
      const parsed = readRequestSchema.safeParse(body);
      if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'body');
      res.json(await feed.markSeen(userOf(req, res), parsed.data.ids));
      return;
    }
    res.json({ counts: await feed.seenAll(userOf(req, res)) });
  });
  const actions = { read: feed.read, unread: feed.unread, archive: feed.archive, unarchive: feed.unarchive } as const;
  for (const [action, run] of Object.entries(actions)) {
    router.post(`/:id/${action}`, async (req, res) => {
      res.json(await run(userOf(req, res), idParam(req.params.id)));
    });
  }
  router.post('/:id/actions/:actionId', async (req, res) => {
    const actionId = actionIdSchema.safeParse(req.params.actionId);
    if (!actionId.success) throw ValidationError.fromZod(actionId.error, 'actionId');
    res.json(await feed.act(userOf(req, res), idParam(req.params.id), actionId.data));
  });
  router.delete('/:id', async (req, res) => {
    res.json({ counts: await feed.remove(userOf(req, res), idParam(req.params.id)) });
  });
  return router;
}
