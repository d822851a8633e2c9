import fs from 'node:fs';
import path from 'node:path';
import express, { type Express, type Router } from 'express';
import type { InstanceStats } from '@herald/shared';
import type { Authenticator } from './auth/authenticate';
import type { PubSubStats } from './channels/pubsub-stats';
import { requireBearer } from './auth/service-token';
import { adminRoutes, metricsRoute } from './http/admin-routes';
import { cors } from './http/cors';
import { apiNotFound, errorHandler } from './http/error-handler';
import { healthRoutes, type ReadinessCheck } from './http/health-routes';
import { requireJson } from './http/require-json';
import type { NotificationFeed } from './notifications/notification-feed';
import type { PublishNotification } from './notifications/notification-publisher';
import { notificationRoutes, userNotificationRoutes } from './notifications/notification-routes';
import type { Logger } from './platform/logger';
import type { Metrics } from './platform/metrics';
import type { PreferenceModel } from './preferences/preference-model';
import { preferenceRoutes } from './preferences/preference-routes';
import { topicRoutes } from './topics/topic-routes';
import type { TopicService } from './topics/topic-service';

export interface AppDeps {
  logger: Logger;
  authenticate: Authenticator;
  preferences: PreferenceModel;
  feed: NotificationFeed;
  /** Every accepted service token (rotation: several at once). */
  serviceTokens: readonly string[];
  /** Bearer token for /metrics and the admin stats. */
  metricsToken?: string;
  /** Without a metrics token, /metrics is public (development) or absent (production). @default true */
  publicMetrics?: boolean;
  corsOrigins: readonly string[];
  publishNotification: PublishNotification;
  readiness: Record<string, ReadinessCheck>;
  /** The built client to serve, if any. */
  clientDir?: string;
  /** @default "64kb" */
  bodyLimit?: string;
  metrics: Metrics;
  topics: TopicService;
  clusterStats: () => Promise<InstanceStats[]>;
  redisStats: () => Promise<PubSubStats>;
  /** Mounted under /api before the API's 404, so routes added to it later (installDemo) are served. */
  extensions: Router;
  /** Show the developer page in the client. @default false */
  devTools?: boolean;
}

/** The express app: JSON API, health checks and, when built, the client. Takes every dependency as an argument. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    next();
  });
  app.use(healthRoutes(deps.readiness));
  const requireService = requireBearer(deps.serviceTokens);
  const metricsGuard = deps.metricsToken ? requireBearer([deps.metricsToken], 'METRICS_TOKEN') : undefined;
  app.use(metricsRoute(deps.metrics, { ...(metricsGuard ? { guard: metricsGuard } : {}), public: deps.publicMetrics ?? true }));

  const api = express.Router();
  api.use(cors(deps.corsOrigins));
  api.use(requireJson);
  api.use(express.json({ limit: deps.bodyLimit ?? '64kb', strict: true }));
  api.use(
    '/notifications',
    notificationRoutes({
      publishNotification: deps.publishNotification,
      feed: deps.feed,
      authenticate: deps.authenticate,
      requireService,
    }),
  );
  api.use('/preferences', preferenceRoutes({ preferences: deps.preferences, authenticate: deps.authenticate }));
  api.use('/users/:userId/notifications', userNotificationRoutes({ feed: deps.feed, requireService }));
  api.get('/config', (_req, res) => {
    res.json({ devTools: deps.devTools ?? false });
  });
  api.use(deps.extensions);
  api.use('/topics', topicRoutes({ topics: deps.topics, requireService }));
  const requireOperator = requireBearer(
    [...deps.serviceTokens, ...(deps.metricsToken ? [deps.metricsToken] : [])],
    'a service token or METRICS_TOKEN',
  );
  api.use(adminRoutes({ requireOperator, clusterStats: deps.clusterStats, redisStats: deps.redisStats }));
  api.use(apiNotFound);
  app.use('/api', api);

  const clientDir = deps.clientDir;
  if (clientDir && fs.existsSync(path.join(clientDir, 'index.html'))) {
    app.use(express.static(clientDir, { index: false, maxAge: '1h' }));
    // Single-page app: any other GET that wants HTML gets index.html.
    app.get(/^\/(?!api\/|socket\.io\/).*/, (req, res, next) => {
      if (!req.accepts('html')) return next();
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(path.join(clientDir, 'index.html'));
    });
  }
  app.use(errorHandler(deps.logger));
  return app;
}
