import { Router } from 'express';
import type { InstanceStats } from '@herald/shared';
import { requireServiceToken } from '../auth/service-token';
import type { PubSubStats } from '../channels/pubsub-stats';
import type { Metrics } from '../platform/metrics';

/** `GET /metrics` (Prometheus text) for the scraper. */
export function metricsRoute(metrics: Metrics): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.render());
  });
  return router;
}

/** `/api/admin/stats` for operators holding the service token: every instance's figures and Redis's pub/sub figures. */
export function adminRoutes(deps: {
  serviceToken: string;
  clusterStats: () => Promise<InstanceStats[]>;
  redisStats: () => Promise<PubSubStats>;
}): Router {
  const router = Router();
  router.get('/admin/stats', requireServiceToken(deps.serviceToken), async (_req, res) => {
    const [instances, redis] = await Promise.all([deps.clusterStats(), deps.redisStats()]);
    res.json({ instances, redis });
  });
  return router;
}
