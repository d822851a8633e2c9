import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per gateway instance (not prom-client's global one), so two
 * gateways in one process, as in the tests, keep separate figures.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'herald_' });
  const metrics = {
    registry,
    /** Run before each scrape to refresh gauges that mirror live state. */
    beforeCollect: [] as (() => void)[],
    async render(): Promise<string> {
      for (const refresh of metrics.beforeCollect) refresh();
      return registry.metrics();
    },
    connectedSockets: new Gauge({
      name: 'herald_connected_sockets',
      help: 'Socket.IO connections on this instance',
      registers: [registry],
    }),
    subscribedChannels: new Gauge({
      name: 'herald_subscribed_channels',
      help: 'Redis channels this instance is subscribed to, by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    published: new Counter({
      name: 'herald_notifications_published_total',
      help: 'Notifications stored and published by this instance',
      registers: [registry],
    }),
    delivered: new Counter({
      name: 'herald_notifications_delivered_total',
      help: 'Notification emits to local sockets (one per socket reached)',
      registers: [registry],
    }),
    channelMessages: new Counter({
      name: 'herald_channel_messages_received_total',
      help: 'Messages received from Redis on user and topic channels, by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    deliveryLatency: new Histogram({
      name: 'herald_delivery_latency_seconds',
      help: 'From publishNotification being called to the emit to local sockets',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    topicFanout: new Histogram({
      name: 'herald_topic_fanout_seconds',
      help: 'Time to hand one topic message to every local subscriber (encoded once, written to each socket)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    syncRequests: new Counter({ name: 'herald_sync_requests_total', help: 'notifications:sync requests answered', registers: [registry] }),
    stalenessHints: new Counter({
      name: 'herald_staleness_hints_total',
      help: "notifications:resync sent to a socket found behind its user's seq counter",
      registers: [registry],
    }),
    stalenessCheckSeconds: new Histogram({
      name: 'herald_staleness_check_seconds',
      help: 'Time of one staleness check over every socket of this instance',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    redisErrors: new Counter({
      name: 'herald_redis_errors_total',
      help: 'Redis connection errors, by connection',
      labelNames: ['connection'] as const,
      registers: [registry],
    }),
    mongoErrors: new Counter({ name: 'herald_mongo_errors_total', help: 'MongoDB connection errors', registers: [registry] }),
    rateLimited: new Counter({
      name: 'herald_rate_limited_events_total',
      help: 'Client events refused by the per-socket rate limit',
      registers: [registry],
    }),
    rateLimitedRequests: new Counter({
      name: 'herald_rate_limited_total',
      help: 'Requests, events and handshakes refused by a rate limit, by limit',
      labelNames: ['limit'] as const,
      registers: [registry],
    }),
    stalledDropped: new Counter({
      name: 'herald_stalled_clients_dropped_total',
      help: 'Connections dropped because the client stopped reading',
      registers: [registry],
    }),
    announceFailures: new Counter({
      name: 'herald_announce_failures_total',
      help: 'Live messages on users channels that could not be published (the staleness check delivers what they carried)',
      registers: [registry],
    }),
    publishFailures: new Counter({
      name: 'herald_publish_failures_total',
      help: 'Publish calls that failed, by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    emails: new Counter({
      name: 'herald_emails_total',
      help: 'Digest emails by outcome: sent (the SMTP server accepted it), failed (tried again later with backoff)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    pushMessages: new Counter({
      name: 'herald_push_messages_total',
      help: 'Web Push messages by outcome: sent, gone (subscription forgotten), retry (429, 5xx or no answer; tried again later), refused',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
