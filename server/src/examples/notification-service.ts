// `npm run example:notifier`: turns user.created / order.placed / payment.completed into user notifications.
import { Redis } from 'ioredis';
import { createEventBus } from '../events/event-bus';
import { createHeraldPublisher } from '../herald-publisher';
import { createLogger } from '../platform/logger';
import { startOrderNotifier } from './order-notifier';
import { serviceUrls } from './service-urls';

async function main(): Promise<void> {
  const { mongodbUri, redisUrl } = serviceUrls();
  const logger = createLogger('info');
  const herald = await createHeraldPublisher({ mongodbUri, redisUrl, logger });
  const publisher = new Redis(redisUrl);
  const subscriber = new Redis(redisUrl);
  const bus = createEventBus({ publisher, subscriber, logger, source: 'notification-service' });
  await startOrderNotifier({ bus, publishNotification: herald.publishNotification, logger });
  logger.info('notification service listening for user.created, order.placed, payment.completed');
  const stop = async () => {
    bus.close();
    publisher.disconnect();
    subscriber.disconnect();
    await herald.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

void main();
