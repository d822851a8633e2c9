// `npm run example:logger`: hears every event through one pattern subscription and logs it.
import { Redis } from 'ioredis';
import { createEventBus } from '../events/event-bus';
import { createLogger } from '../platform/logger';
import { serviceUrls } from './service-urls';

async function main(): Promise<void> {
  const { redisUrl } = serviceUrls();
  const logger = createLogger('info');
  const publisher = new Redis(redisUrl);
  const subscriber = new Redis(redisUrl);
  const bus = createEventBus({ publisher, subscriber, logger, source: 'logger-service' });
  await bus.onPattern('*', (event, data, envelope) => {
    logger.info({ event, data, id: envelope.id, source: envelope.source, emittedAt: envelope.emittedAt }, 'event');
  });
  logger.info('logger service listening to every event (pattern "*")');
  const stop = () => {
    bus.close();
    publisher.disconnect();
    subscriber.disconnect();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
