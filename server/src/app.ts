import fs from 'node:fs';
import path from 'node:path';
import express, { type Express, type Router } from 'express';
import type { InstanceStats } from '@herald/shared';
import type { Authenticator } from './auth/authenticate';
import type { PubSubStats } from './channels/pubsub-stats';
import { requireUser } from './auth/require-user';
import { requireBearer } from './auth/service-token';
import { adminRoutes, metricsRoute } from './http/admin-routes';
import { cors } from './http/cors';
import { apiNotFound, errorHandler } from './http/error-handler';
import { healthRoutes, type ReadinessCheck } from './http/health-routes';
import { budgetCheck, limitAnonymous } from './http/rate-limit';
import { requireJson } from './http/require-json';
import type { JobStore } from './notifications/scheduled-jobs';
import type { NotificationFeed } from './notifications/notification-feed';
import type { PublishNotification } from './notifications/notification-publisher';
import { notificationRoutes, userNotificationRoutes } from './notifications/notification-routes';
import type { Logger } from './platform/logger';
import type { OffPage } from './off-page';
import { unsubscribeRoutes } from './email/unsubscribe-routes';
import type { Metrics } from './platform/metrics';
import { pushRoutes } from './push/push-routes';
import { recipientRoutes } from './recipients/recipient-routes';
import type { PreferenceModel } from './preferences/preference-model';
import type { TakeFromBudget } from './security/rate-limiters';
import { preferenceRoutes } from './preferences/preference-routes';
import type { MuteSettings } from './preferences/mute-settings';
import { topicRoutes } from './topics/topic-routes';
import type { TopicService } from './topics/topic-service';

/** What the API router serves from: the services it calls and who may call it. */
export interface ApiDeps {
  logger: Logger;
  authenticate: Authenticator;
  preferences: PreferenceModel;
  /** Told after each preference write (see MuteSettings.changed). */
  mutes: Pick<MuteSettings, 'changed'>;
  feed: NotificationFeed;
  /** Scheduled sends, for cancelling one. */
  jobs: Pick<JobStore, 'cancel'>;
  /** Every accepted service token (rotation: several at once); none: the service routes refuse every caller. */
  serviceTokens: readonly string[];
  /** Bearer token for the admin stats (and /metrics, in createApp). */
  metricsToken?: string;
  corsOrigins: readonly string[];
  /** Categories users cannot turn off. */
  criticalCategories: readonly string[];
  publishNotification: PublishNotification;
  /** @default "64kb" */
  bodyLimit?: string;
  topics: TopicService;
  /** Recipients and push subscriptions (/api/recipients, /api/push). */
  offPage: OffPage;
  clusterStats: () => Promise<InstanceStats[]>;
  redisStats: () => Promise<PubSubStats>;
  /** Mounted before the API's 404, so routes added to it later (installDemo) are served. */
  extensions: Router;
  /** Show the developer page in the client. @default false */
  devTools?: boolean;
  /** The rate limits callers are held to (security/rate-limiters.ts); none without it. */
  takeFromBudget?: TakeFromBudget;
}

/** The standalone app around the API: health checks, /metrics and, when built, the client. */
export interface AppDeps {
  logger: Logger;
  /** Bearer token for /metrics. */
  metricsToken?: string;
  /** Without a metrics token, /metrics is public (development) or absent (production). @default true */
  publicMetrics?: boolean;
  readiness: Record<string, ReadinessCheck>;
  /** express's `trust proxy`: whose X-Forwarded-For gives `req.ip`. @default "loopback" */
  trustProxy?: string;
  /** The built client to serve, if any. */
  clientDir?: string;
  metrics: Metrics;
}

/**
 * Herald's JSON API as one router: what createApp mounts at /api, and what attachHerald mounts on a
 * host's app under the host's prefix. It answers its own errors (JSON, with a code) and its own 404s.
 */
export function createApiRouter(deps: ApiDeps): Router {
  const check = deps.takeFromBudget ? budgetCheck(deps.takeFromBudget) : undefined;
  const requireService = requireBearer(deps.serviceTokens, undefined, check);
  const signedIn = requireUser(deps.authenticate, check);
  const api = express.Router();
  api.use(cors(deps.corsOrigins));
  if (check) api.use(limitAnonymous(check));
  // Before the JSON rule: a mail client's one-click unsubscribe posts a form (RFC 8058).
  if (deps.offPage.email) {
    api.use(
      '/email',
      unsubscribeRoutes({
        links: deps.offPage.email.links,
        preferences: deps.preferences,
        mutes: deps.mutes,
        critical: deps.criticalCategories,
        logger: deps.logger,
      }),
    );
  }
  api.use(requireJson);
  api.use(express.json({ limit: deps.bodyLimit ?? '64kb', strict: true }));
  api.use(
    '/notifications',
    notificationRoutes({
      publishNotification: deps.publishNotification,
      feed: deps.feed,
      requireUser: signedIn,
      requireService,
      jobs: deps.jobs,
      ...(check ? { check } : {}),
    }),
  );
  api.use(
    '/preferences',
    preferenceRoutes({
      preferences: deps.preferences,
      mutes: deps.mutes,
      logger: deps.logger,
      requireUser: signedIn,
      critical: deps.criticalCategories,
      channels: [
        'inApp',
        ...(deps.offPage.config.push ? (['push'] as const) : []),
        ...(deps.offPage.config.email ? (['email'] as const) : []),
      ],
    }),
  );
  api.use('/users/:userId/notifications', userNotificationRoutes({ feed: deps.feed, requireService }));
  api.get('/config', (_req, res) => {
    res.json({ devTools: deps.devTools ?? false });
  });
  api.use(deps.extensions);
  api.use('/topics', topicRoutes({ topics: deps.topics, requireService }));
  api.use('/recipients', recipientRoutes({ recipients: deps.offPage.recipients, requireService, authenticate: deps.authenticate }));
  api.use('/push', pushRoutes({ push: deps.offPage.config.push, subscriptions: deps.offPage.pushSubscriptions, requireUser: signedIn }));
  const requireOperator = requireBearer(
    [...deps.serviceTokens, ...(deps.metricsToken ? [deps.metricsToken] : [])],
    'a service token or METRICS_TOKEN',
    check,
  );
  api.use(adminRoutes({ requireOperator, clusterStats: deps.clusterStats, redisStats: deps.redisStats }));
  api.use(apiNotFound);
  api.use(errorHandler(deps.logger));
  return api;
}

/** The standalone express app: the API (createApiRouter) at /api, health checks and, when built, the client. */
export function createApp(deps: AppDeps, api: Router): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set(
    'trust proxy',
    (deps.trustProxy ?? 'loopback').split(',').map((entry) => entry.trim()),
  );
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    next();
  });
  app.use(healthRoutes(deps.readiness));
  const metricsGuard = deps.metricsToken ? requireBearer([deps.metricsToken], 'METRICS_TOKEN') : undefined;
  app.use(metricsRoute(deps.metrics, { ...(metricsGuard ? { guard: metricsGuard } : {}), public: deps.publicMetrics ?? true }));
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
