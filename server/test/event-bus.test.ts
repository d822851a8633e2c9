import { Redis } from 'ioredis';
import { createEventBus, type EventBus } from '../src/events/event-bus';
import { startOrderNotifier } from '../src/examples/order-notifier';
import { createLogger } from '../src/platform/logger';
import { connect, recordNotifications } from './support/sockets';
import { login } from './support/http';
import { sleep, waitFor } from './support/wait';
import { storedNotifications } from './support/database';
import { useTestStack } from './support/stack';

describe('the cross-service event bus', () => {
  const stack = useTestStack();
  const connections: Redis[] = [];
  const logger = createLogger('silent');

  function bus(source: string): EventBus {
    const publisher = new Redis(stack.redis.url);
    const subscriber = new Redis(stack.redis.url);
    connections.push(publisher, subscriber);
    return createEventBus({ publisher, subscriber, logger, source });
  }

  afterAll(() => connections.forEach((c) => c.disconnect()));

  const userId = 'a'.repeat(24);

  it('a pattern listener hears every event type; on(event) hears only its own; emit counts listeners', async () => {
    const emitter = bus('shop');
    const listener = bus('logger');
    const all: string[] = [];
    const orders: string[] = [];
    const orderOnly: string[] = [];
    await listener.onPattern('*', (event) => void all.push(event));
    await listener.onPattern('order:*', (event) => void orders.push(event));
    await listener.on('order.placed', (data) => void orderOnly.push(data.orderId));

    expect(await emitter.emit('user.created', { userId, name: 'Ann' })).toBe(1);
    expect(await emitter.emit('order.placed', { orderId: 'o1', userId, total: 10 })).toBe(3);
    await emitter.emit('order.shipped', { orderId: 'o1' });
    await emitter.emit('payment.completed', { orderId: 'o1', userId, amount: 10 });

    await waitFor(() => expect(all).toEqual(['user.created', 'order.placed', 'order.shipped', 'payment.completed']));
    expect(orders).toEqual(['order.placed', 'order.shipped']);
    expect(orderOnly).toEqual(['o1']);
  });

  it('a handler that throws is logged and the listener keeps hearing events', async () => {
    const emitter = bus('shop');
    const listener = bus('flaky');
    const heard: string[] = [];
    await listener.onPattern('payment.*', (_event, data) => {
      heard.push(String(data.orderId));
      if (data.orderId === 'boom') throw new Error('handler bug');
    });
    await listener.on('payment.completed', async () => {
      throw new Error('async handler bug');
    });
    for (const orderId of ['p1', 'boom', 'p2']) await emitter.emit('payment.completed', { orderId, userId, amount: 1 });
    await waitFor(() => expect(heard).toEqual(['p1', 'boom', 'p2']));
  });

  it('refuses malformed events before they leave', async () => {
    const emitter = bus('shop');
    await expect(emitter.emit('order.placed', { orderId: 'o', userId: 'not an id', total: 1 } as never)).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(emitter.emit('NoDots', {})).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(emitter.emit('order.note', { $where: '1' })).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('the notification service turns order.placed into a notification the user sees live, once even if the event repeats', async () => {
    const bob = await login(stack.herald.url, 'bob');
    const socket = await connect(stack.herald.url, bob.token);
    const received = recordNotifications(socket);
    const notifierBus = bus('notification-service');
    const stop = await startOrderNotifier({ bus: notifierBus, publishNotification: stack.herald.gateway.publishNotification, logger });

    const emitter = bus('shop');
    await emitter.emit('order.placed', { orderId: 'A-1001', userId: bob.user.id, total: 42.5 });
    await waitFor(() => expect(received.map((n) => n.title)).toEqual(['Order A-1001 placed']));
    expect(received[0]).toMatchObject({ type: 'order.placed', actionUrl: '/orders/A-1001', body: 'Total 42.50 EUR.' });

    // The same event delivered twice (same envelope id) notifies once.
    const raw = new Redis(stack.redis.url);
    connections.push(raw);
    const envelope = {
      id: 'evt-1',
      event: 'payment.completed',
      data: { orderId: 'A-1001', userId: bob.user.id, amount: 42.5, currency: 'EUR' },
      emittedAt: new Date().toISOString(),
    };
    await raw.publish('herald:event:payment.completed', JSON.stringify(envelope));
    await raw.publish('herald:event:payment.completed', JSON.stringify(envelope));
    await waitFor(() => expect(received).toHaveLength(2));
    await sleep(300);
    expect((await storedNotifications(stack.inspector, bob.user.id)).map((d) => d.type)).toEqual(['order.placed', 'payment.completed']);
    await stop();
  });
});
