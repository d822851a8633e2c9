import { randomUUID } from 'node:crypto';
import { createNames, type HeraldNames } from '@herald/shared';
import { ValidationError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { RedisClient } from '../platform/redis-client';
import { eventEnvelopeSchema, eventNameSchema, parseEventData, type EventData, type EventEnvelope } from './event-types';

export type EventHandler<E extends string = string> = (data: EventData<E>, envelope: EventEnvelope) => void | Promise<void>;
export type PatternHandler = (event: string, data: Record<string, unknown>, envelope: EventEnvelope) => void | Promise<void>;
export type Unsubscribe = () => Promise<void>;

/**
 * The two Redis connections and the names an event bus uses.
 *
 * @example
 * createEventBus({ publisher: new Redis(url), subscriber: new Redis(url), logger, source: 'orders' });
 */
export interface EventBusOptions {
  /** Normal-mode connection for PUBLISH. */
  publisher: RedisClient;
  /** A dedicated subscriber connection. */
  subscriber: RedisClient;
  logger: Logger;
  /** Names the emitting service in each envelope. */
  source?: string;
  /** @default "herald" */
  channelPrefix?: string;
}

/**
 * A cross-service event bus on Redis pub/sub: `emit(event, data)`,
 * `on(event, handler)`, `onPattern("order:*", handler)`. Fire-and-forget like
 * all pub/sub: a listener that is down misses events (use notifications for
 * what a user must not lose). A handler that throws is logged and the
 * listener carries on.
 *
 * @example
 * const bus = createEventBus({ publisher, subscriber, logger, source: 'orders' });
 * await bus.emit('order.placed', { orderId, userId, total: 42.5 });
 * await bus.onPattern('order.*', (event, data) => log.info({ event, data }));
 */
/**
 * Validates and publishes one event on the bus, as `emit` does, for code that has a Redis connection
 * but no bus of its own (the gateway's `notification.action`). Resolves with the listener count.
 */
export async function publishEvent<E extends string>(
  publisher: RedisClient,
  names: HeraldNames,
  event: E,
  data: EventData<E>,
  source?: string,
): Promise<number> {
  const name = eventNameSchema.safeParse(event);
  if (!name.success) throw ValidationError.fromZod(name.error, 'event name');
  const parsed = parseEventData(event, data);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, `${event} data`);
  const envelope: EventEnvelope = {
    id: randomUUID(),
    event,
    data: parsed.data as Record<string, unknown>,
    emittedAt: new Date().toISOString(),
    ...(source ? { source } : {}),
  };
  return publisher.publish(names.eventChannel(event), JSON.stringify(envelope));
}

export function createEventBus(options: EventBusOptions) {
  const names = createNames(options.channelPrefix);
  const log = options.logger.child({ module: 'event-bus' });
  const exact = new Map<string, Set<EventHandler>>();
  const patterns = new Map<string, Set<PatternHandler>>();

  function envelopeOf(raw: string): EventEnvelope | undefined {
    try {
      const parsed = eventEnvelopeSchema.safeParse(JSON.parse(raw));
      if (parsed.success) return parsed.data;
    } catch {
      // falls through to the warning
    }
    log.warn('dropped an event that is not a valid envelope');
    return undefined;
  }

  async function run(what: string, envelope: EventEnvelope, call: () => void | Promise<void>): Promise<void> {
    try {
      await call();
    } catch (error) {
      log.error({ err: error, event: envelope.event, eventId: envelope.id, handler: what }, 'event handler failed; carrying on');
    }
  }

  const onMessage = (channel: string, raw: string) => {
    const handlers = exact.get(channel);
    if (!handlers) return;
    const envelope = envelopeOf(raw);
    if (!envelope) return;
    for (const handler of handlers) void run(channel, envelope, () => handler(envelope.data as never, envelope));
  };
  const onPatternMessage = (pattern: string, _channel: string, raw: string) => {
    const handlers = patterns.get(pattern);
    if (!handlers) return;
    const envelope = envelopeOf(raw);
    if (!envelope) return;
    for (const handler of handlers) void run(pattern, envelope, () => handler(envelope.event, envelope.data, envelope));
  };
  options.subscriber.on('message', onMessage);
  options.subscriber.on('pmessage', onPatternMessage);

  /** `order:*`, `order.*` and `*` all work: `:` and `.` both separate the parts of an event name. */
  function patternChannel(pattern: string): string {
    if (!/^[a-z0-9_.:*-]{1,100}$/.test(pattern))
      throw new ValidationError('An event pattern uses lowercase letters, digits, ".", ":", "-", "_" and "*".');
    return names.eventChannel(pattern.replace(/:/g, '.'));
  }

  return {
    /** Publishes an event; resolves with how many listeners (subscribed connections) received it. */
    async emit<E extends string>(event: E, data: EventData<E>): Promise<number> {
      return publishEvent(options.publisher, names, event, data, options.source);
    },

    async on<E extends string>(event: E, handler: EventHandler<E>): Promise<Unsubscribe> {
      const name = eventNameSchema.safeParse(event);
      if (!name.success) throw ValidationError.fromZod(name.error, 'event name');
      const channel = names.eventChannel(event);
      let handlers = exact.get(channel);
      if (!handlers) {
        handlers = new Set();
        exact.set(channel, handlers);
        await options.subscriber.subscribe(channel);
      }
      handlers.add(handler as EventHandler);
      return async () => {
        handlers.delete(handler as EventHandler);
        if (handlers.size === 0 && exact.get(channel) === handlers) {
          exact.delete(channel);
          await options.subscriber.unsubscribe(channel);
        }
      };
    },

    async onPattern(pattern: string, handler: PatternHandler): Promise<Unsubscribe> {
      const channel = patternChannel(pattern);
      let handlers = patterns.get(channel);
      if (!handlers) {
        handlers = new Set();
        patterns.set(channel, handlers);
        await options.subscriber.psubscribe(channel);
      }
      handlers.add(handler);
      return async () => {
        handlers.delete(handler);
        if (handlers.size === 0 && patterns.get(channel) === handlers) {
          patterns.delete(channel);
          await options.subscriber.punsubscribe(channel);
        }
      };
    },

    close(): void {
      options.subscriber.off('message', onMessage);
      options.subscriber.off('pmessage', onPatternMessage);
    },
  };
}

/**
 * What createEventBus returns: emit, on, onPattern and close.
 *
 * @example
 * const stop = await bus.on('payment.completed', (data) => markPaid(data.orderId));
 */
export type EventBus = ReturnType<typeof createEventBus>;
