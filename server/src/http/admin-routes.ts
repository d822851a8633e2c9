import { Router, type RequestHandler } from 'express';
import type { InstanceStats } from '@herald/shared';
import type { PubSubStats } from '../channels/pubsub-stats';
import type { Metrics } from '../platform/metrics';

/**
 * `GET /metrics` (Prometheus text) for the scraper: behind `guard` (bearer
 * METRICS_TOKEN) when given; without one it is public, or, in production,
 * absent (404), so a production start never exposes it by accident.
 */
export function metricsRoute(metrics: Metrics, access: { guard?: RequestHandler; public: boolean }): Router {
  const router = Router();
  if (!access.guard && !access.public) return router;
  router.get('/metrics', access.guard ?? ((_req, _res, next) => next()), async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.render());
  });
  return router;
}

/** `/api/admin/stats` for operators (a service token or METRICS_TOKEN): every instance's figures and Redis's pub/sub figures. */
export function adminRoutes(deps: {
  requireOperator: RequestHandler;
  clusterStats: () => Promise<InstanceStats[]>;
  redisStats: () => Promise<PubSubStats>;
}): Router {
  const router = Router();
  router.get('/admin/stats', deps.requireOperator, async (_req, res) => {
    const [instances, redis] = await Promise.all([deps.clusterStats(), deps.redisStats()]);
    res.json({ instances, redis });
  });
  return router;
}
