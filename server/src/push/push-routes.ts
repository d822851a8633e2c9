import { Router, type RequestHandler } from 'express';
import { pushSubscriptionInputSchema, pushUnsubscribeInputSchema } from '@herald/shared';
import { currentUser } from '../auth/require-user';
import { allowedPushEndpoint, type PushConfig } from '../off-page-config';
import { AppError, ValidationError } from '../platform/errors';
import type { PushSubscriptions } from './push-subscriptions';

/**
 * `/api/push` for the signed-in user: the VAPID public key their browser subscribes with, and their
 * subscriptions. Without push configured (no VAPID keys) every route answers 404.
 */
export function pushRoutes(deps: { push: PushConfig | undefined; subscriptions: PushSubscriptions; requireUser: RequestHandler }): Router {
  const router = Router();
  const { push } = deps;
  if (!push) {
    router.use((_req, _res) => {
      throw new AppError('not_found', 'Push notifications are not configured on this server (no VAPID keys).');
    });
    return router;
  }

  router.get('/vapid-public-key', (_req, res) => {
    res.json({ publicKey: push.vapid.publicKey });
  });
  router.use(deps.requireUser);
  router.post('/subscriptions', async (req, res) => {
    const parsed = pushSubscriptionInputSchema.safeParse(req.body);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'push subscription');
    const { endpoint, keys } = parsed.data;
    if (!allowedPushEndpoint(endpoint, push.serviceOrigins)) {
      throw new ValidationError('Invalid push subscription: the endpoint must be https:// on a known push service.', [
        { path: 'endpoint', message: 'must be https:// on a browser push service (or one in PUSH_SERVICE_ORIGINS)' },
      ]);
    }
    // Browsers register the same subscription again on every visit: 201 either way.
    await deps.subscriptions.add(currentUser(res).userId, { endpoint, ...keys });
    res.status(201).json({ endpoint });
  });
  router.delete('/subscriptions', async (req, res) => {
    const parsed = pushUnsubscribeInputSchema.safeParse(req.body);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'push subscription');
    await deps.subscriptions.remove(currentUser(res).userId, parsed.data.endpoint);
    res.status(204).end();
  });
  return router;
}
