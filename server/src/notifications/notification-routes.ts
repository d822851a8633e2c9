import { Router, type Request, type RequestHandler, type Response } from 'express';
import { actionIdSchema, feedKey, readRequestSchema, snoozeRequestSchema } from '@herald/shared';
import { currentUser } from '../auth/require-user';
import { AppError, ValidationError } from '../platform/errors';
import { idParam, userIdParam } from '../http/id-param';
import { tenantHeader } from '../http/tenant-header';
import type { CheckBudget } from '../http/rate-limit';
import type { NotificationFeed } from './notification-feed';
import type { PublishNotification } from './notification-publisher';
import type { JobStore } from './scheduled-jobs';

export interface NotificationRouteDeps {
  publishNotification: PublishNotification;
  feed: NotificationFeed;
  /** Admits signed-in users (requireUser). */
  requireUser: RequestHandler;
  /** Admits backends holding a service token. */
  requireService: RequestHandler;
  jobs: Pick<JobStore, 'cancel'>;
  /** The signed-in users' budgets (userRequests): a counts request costs one point per filter. */
  check?: CheckBudget;
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
    // Scheduled (`sendAt`): accepted, nothing sent yet.
    if (result.scheduled) {
      res.status(202).json({ scheduled: result.scheduled });
      return;
    }
    // The library's PublishResult as it is: the same fields over HTTP and in process.
    res.status(201).json({
      notifications: result.notifications,
      instancesReached: result.instancesReached,
      mutedUserIds: result.mutedUserIds,
      deduplicatedUserIds: result.deduplicatedUserIds,
      replayed: result.replayed,
    });
  });
  // Cancels a scheduled send that has not started (its id came in the 202 answer).
  router.delete('/scheduled/:id', deps.requireService, async (req, res) => {
    const id = String(req.params.id);
    if (!/^send:[0-9a-f-]{36,40}$/.test(id))
      throw new ValidationError('Not a scheduled send id.', [{ path: 'id', message: 'must be an id from a 202 answer' }]);
    if (!(await deps.jobs.cancel(id))) throw new AppError('not_found', 'No such scheduled send waiting (it may have been sent already).');
    res.json({ cancelled: id });
  });
  const check = deps.check;
  // The request itself cost one point already (requireUser); each further filter costs one more.
  const chargeFilters = check && ((res: Response, filters: number) => check('userRequests', currentUser(res).person, res, filters - 1));
  // The unread and unseen counts of each tenant the token grants, for a workspace switcher (one request
  // per tenant's worth of budget). The default feed's are at /counts.
  router.get('/counts/by-tenant', deps.requireUser, async (_req, res) => {
    const user = currentUser(res);
    const tenants = user.tenants ?? [];
    if (check && tenants.length > 1) await check('userRequests', user.person, res, tenants.length - 1);
    const counts = await Promise.all(tenants.map((tenant) => deps.feed.counts(feedKey(tenant, user.person))));
    res.json({
      counts: Object.fromEntries(tenants.map((tenant, i) => [tenant, { unread: counts[i]!.unread, unseen: counts[i]!.unseen }])),
    });
  });
  router.use(feedRoutes(deps.feed, deps.requireUser, (_req, res) => currentUser(res).userId, chargeFilters));
  return router;
}

/**
 * `/api/users/:userId/notifications` for backends holding a service token: the same feed routes, acting
 * for that user (counts, list, read/unread/seen/archive, read-all, delete), pushed live to the user's
 * sockets like any other change.
 */
export function userNotificationRoutes(deps: Pick<NotificationRouteDeps, 'feed' | 'requireService'>): Router {
  // A `Herald-Tenant` header picks the user's feed in that tenant (a service token may act in any).
  return feedRoutes(deps.feed, deps.requireService, (req) => feedKey(tenantHeader(req), userIdParam(req.params.userId)));
}

/**
 * One user's feed routes, behind `guard`; `userOf` says whose feed a request is about; `chargeFilters`,
 * when given, charges a counts request's filters to the caller's budget.
 */
function feedRoutes(
  feed: NotificationFeed,
  guard: RequestHandler,
  userOf: (req: Request, res: Response) => string,
  chargeFilters?: (res: Response, filters: number) => Promise<void>,
): Router {
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
    const charge = chargeFilters && ((filters: number) => chargeFilters(res, filters));
    res.json({ counts: await feed.countsFor(userOf(req, res), req.body, charge ? { charge } : {}) });
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
  router.post('/:id/snooze', async (req, res) => {
    const parsed = snoozeRequestSchema.safeParse({ ...(req.body as object), id: req.params.id });
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'body');
    res.json(await feed.snooze(userOf(req, res), parsed.data.id, parsed.data.until));
  });
  router.delete('/:id', async (req, res) => {
    res.json({ counts: await feed.remove(userOf(req, res), idParam(req.params.id)) });
  });
  return router;
}
