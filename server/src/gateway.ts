import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express, Router } from 'express';
import { createApp } from './app';
import type { Authenticator } from './auth/authenticate';
import type { TokenSigner } from './auth/token-signer';
import type { TopicChannelSubscriber } from './channels/topic-channel-subscriber';
import type { UserChannelSubscriber } from './channels/user-channel-subscriber';
import { createHeraldParts, type HeraldDeps } from './herald-parts';
import type { NotificationFeed } from './notifications/notification-feed';
import type { PublishNotification } from './notifications/notification-publisher';
import type { RetentionSweeper } from './notifications/retention';
import type { JobRunner } from './notifications/job-runner';
import type { Logger } from './platform/logger';
import type { Metrics } from './platform/metrics';
import type { IoServer } from './realtime/io-server';
import { withDefaultLimits } from './security/limits';
import type { RecipientService } from './recipients/recipient-service';
import type { TopicService } from './topics/topic-service';

/**
 * The clients and settings createGateway is handed (it builds none itself): HeraldDeps, plus what only
 * a standalone gateway serves (/metrics, the demo's client).
 *
 * @example
 * const deps: GatewayDeps = { connection, redis: { command, adapterSubscriber, userSubscriber }, logger, auth: { jwtSecret }, serviceTokens: [serviceToken], corsOrigins: [] };
 */
export interface GatewayDeps extends HeraldDeps {
  /** Without a metrics token, /metrics is public (true) or absent (false, as in production). @default true */
  publicMetrics?: boolean;
  clientDir?: string;
}

/**
 * One wired gateway instance: its express app, HTTP server, Socket.IO server and services.
 *
 * @example
 * const port = await gateway.listen(0, '127.0.0.1');
 * await gateway.close();
 */
export interface Gateway {
  app: Express;
  /** Mounted under /api before the API's 404: add your own routes here (installDemo does). */
  apiRoutes: Router;
  httpServer: http.Server;
  io: IoServer;
  userChannels: UserChannelSubscriber;
  topicChannels: TopicChannelSubscriber;
  topics: TopicService;
  /** Who users are off the page (email, name, locale, time zone): the calls of `/api/recipients/:userId`. */
  recipients: RecipientService;
  /** Signs HS256 tokens with `auth.jwtSecret` (throws without one): the demo's sign-in, tools, tests. */
  tokens: TokenSigner;
  /** The check every user token goes through (the hook, or Herald's verifier). */
  authenticate: Authenticator;
  publishNotification: PublishNotification;
  feed: NotificationFeed;
  metrics: Metrics;
  logger: Logger;
  instanceId: string;
  retention: RetentionSweeper;
  /** Scheduled sends, snoozes and expiries. */
  jobs: JobRunner;
  /** Listens on loopback-or-all as given; resolves with the bound port. */
  listen(port: number, host?: string): Promise<number>;
  /** Disconnects sockets, stops listening and removes its listeners; the caller closes the clients it built. */
  close(): Promise<void>;
}

/**
 * Wires one gateway instance from clients its caller built, so tests can run several in one process.
 *
 * @example
 * const gateway = createGateway({ connection, redis: { command, adapterSubscriber, userSubscriber }, logger, auth: { jwksUrl, issuer, audience }, serviceTokens: [serviceToken], corsOrigins: [] });
 * await ensureIndexes(connection);
 * await gateway.listen(3000);
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const parts = createHeraldParts(deps);
  const app = createApp(
    {
      logger: deps.logger,
      ...(deps.metricsToken ? { metricsToken: deps.metricsToken } : {}),
      publicMetrics: deps.publicMetrics ?? true,
      trustProxy: deps.trustProxy ?? 'loopback',
      readiness: parts.readiness,
      metrics: parts.metrics,
      ...(deps.clientDir ? { clientDir: deps.clientDir } : {}),
    },
    parts.api,
  );
  // The app first, then Socket.IO: engine.io takes over the server's request listeners and hands it
  // every request that is not its own.
  const limits = withDefaultLimits(deps.limits);
  // A client gets headersTimeoutMs to send its headers and requestTimeoutMs for the whole request, then 408
  // and the connection is closed: a slow client cannot hold a request (Node's default is 300 s). Node
  // checks every connectionsCheckingInterval (30 s by default), so check every second.
  const httpServer = http.createServer(
    { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: 1000 },
    app,
  );
  const realtime = parts.attach(httpServer, { ownsHttpServer: true });

  return {
    app,
    apiRoutes: parts.extensions,
    httpServer,
    io: realtime.io,
    userChannels: realtime.userChannels,
    topicChannels: realtime.topicChannels,
    topics: parts.topics,
    recipients: parts.offPage.recipients,
    tokens: parts.tokens,
    authenticate: parts.authenticate,
    publishNotification: parts.core.publishNotification,
    feed: parts.core.feed,
    metrics: parts.metrics,
    logger: deps.logger,
    instanceId: parts.instanceId,
    retention: parts.retention,
    jobs: parts.jobs,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        // A larger accept queue than Node's 511: when an instance fails, thousands of clients reconnect to
        // the others within a second, and connections beyond the queue wait for a SYN retry (1 s, then 3 s).
        httpServer.listen({ port, host, backlog: 4096 }, () => {
          httpServer.off('error', reject);
          resolve((httpServer.address() as AddressInfo).port);
        });
      }),
    close: () => parts.close(),
  };
}
