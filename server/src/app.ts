import fs from 'node:fs';
import path from 'node:path';
import express, { type Express, type Router } from 'express';
import { authRoutes } from './auth/auth-routes';
import type { TokenService } from './auth/jwt';
import type { InstanceStats } from '@herald/shared';
import { requireServiceToken } from './auth/service-token';
import { cors } from './http/cors';
import type { Metrics } from './metrics';
import type { PubSubStats } from './realtime/pubsub-stats';
import { topicRoutes } from './topics/topic-routes';
import type { TopicService } from './topics/topic-service';
import { apiNotFound, errorHandler } from './http/error-handler';
import { healthRoutes, type ReadinessCheck } from './http/health-routes';
import { requireJson } from './http/require-json';
import type { Logger } from './logger';
import type { NotificationFeed } from './notifications/notification-feed';
import type { PublishNotification } from './notifications/notification-publisher';
import type { PreferenceModel } from './preferences/preference-model';
import { preferenceRoutes } from './preferences/preference-routes';
import { notificationRoutes } from './notifications/notification-routes';
import type { UserModel } from './users/user-model';

export interface AppDeps {
  logger: Logger;
  tokens: TokenService;
  users: UserModel;
  preferences: PreferenceModel;
  feed: NotificationFeed;
  serviceToken: string;
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
  /** More routes under /api (the demo app's posts and comments). */
  extraApiRoutes?: Router;
  /** Show the developer page in the client. @default false */
  devTools?: boolean;
  redisStats: () => Promise<PubSubStats>;
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
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.render());
  });

  const api = express.Router();
  api.use(cors(deps.corsOrigins));
  api.use(requireJson);
  api.use(express.json({ limit: deps.bodyLimit ?? '64kb', strict: true }));
  api.use('/auth', authRoutes({ users: deps.users, tokens: deps.tokens }));
  api.use(
    '/notifications',
    notificationRoutes({
      publishNotification: deps.publishNotification,
      feed: deps.feed,
      tokens: deps.tokens,
      serviceToken: deps.serviceToken,
    }),
  );
  api.use('/preferences', preferenceRoutes({ preferences: deps.preferences, tokens: deps.tokens }));
  api.get('/config', (_req, res) => {
    res.json({ devTools: deps.devTools ?? false });
  });
  if (deps.extraApiRoutes) api.use(deps.extraApiRoutes);
  api.use('/topics', topicRoutes({ topics: deps.topics, serviceToken: deps.serviceToken }));
  api.get('/admin/stats', requireServiceToken(deps.serviceToken), async (_req, res) => {
    const [instances, redis] = await Promise.all([deps.clusterStats(), deps.redisStats()]);
    res.json({ instances, redis });
  });
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
