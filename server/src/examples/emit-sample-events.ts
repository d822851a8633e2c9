// `npm run example:emit -- <username>`: emits user.created, order.placed and payment.completed for a demo user.
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { createEventBus } from '../events/event-bus';
import { createLogger } from '../platform/logger';
import { serviceUrls } from './service-urls';

async function main(): Promise<void> {
  const username = process.argv[2] ?? 'bob';
  const { mongodbUri, redisUrl } = serviceUrls();
  const connection = await mongoose.createConnection(mongodbUri, { serverSelectionTimeoutMS: 3000 }).asPromise();
  const user = await connection.collection('users').findOne({ username });
  await connection.close();
  if (!user) {
    console.error(`No user "${username}" (the demo users are alice, bob and carol).`);
    process.exit(1);
  }
  const userId = user._id.toHexString();
  const publisher = new Redis(redisUrl);
  const bus = createEventBus({ publisher, subscriber: new Redis(redisUrl), logger: createLogger('info'), source: 'sample-emitter' });
  const orderId = `A-${Date.now().toString(36).toUpperCase()}`;
  const heard = [
    await bus.emit('user.created', { userId, name: String(user.name) }),
    await bus.emit('order.placed', { orderId, userId, total: 42.5 }),
    await bus.emit('payment.completed', { orderId, userId, amount: 42.5 }),
  ];
  console.log(`Emitted 3 events for ${username} (order ${orderId}); listeners per event: ${heard.join(', ')}`);
  process.exit(0);
}

void main();
