import type { EventBus, Unsubscribe } from '../events/event-bus';
import type { Logger } from '../platform/logger';
import type { PublishNotification } from '../notifications/notification-publisher';

/**
 * The seeds' notification service: turns domain events into user
 * notifications. Each notification's idempotency key is the event's id, so an
 * event handled twice still notifies once.
 */
export async function startOrderNotifier(deps: {
  bus: EventBus;
  publishNotification: PublishNotification;
  logger: Logger;
}): Promise<Unsubscribe> {
  const log = deps.logger.child({ module: 'order-notifier' });
  const stops = await Promise.all([
    deps.bus.on('user.created', async (data, envelope) => {
      await deps.publishNotification(
        {
          userIds: [data.userId],
          type: 'user.welcome',
          title: `Welcome, ${data.name}!`,
          body: 'Notifications about your orders will appear here.',
        },
        { idempotencyKey: `event-${envelope.id}` },
      );
    }),
    deps.bus.on('order.placed', async (data, envelope) => {
      const total = `${data.total.toFixed(2)} ${data.currency ?? 'EUR'}`;
      await deps.publishNotification(
        {
          userIds: [data.userId],
          type: 'order.placed',
          title: `Order ${data.orderId} placed`,
          body: `Total ${total}.`,
          actionUrl: `/orders/${encodeURIComponent(data.orderId)}`,
          data: { orderId: data.orderId },
        },
        { idempotencyKey: `event-${envelope.id}` },
      );
      log.info({ orderId: data.orderId }, 'order notification sent');
    }),
    deps.bus.on('payment.completed', async (data, envelope) => {
      await deps.publishNotification(
        {
          userIds: [data.userId],
          type: 'payment.completed',
          title: `Payment received for order ${data.orderId}`,
          body: `${data.amount.toFixed(2)} ${data.currency ?? 'EUR'}`,
          data: { orderId: data.orderId },
        },
        { idempotencyKey: `event-${envelope.id}` },
      );
    }),
  ]);
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
}
