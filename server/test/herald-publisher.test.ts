import { createHeraldPublisher, type HeraldPublisher } from '../src';
import { createLogger } from '../src/platform/logger';
import { connect, recordNotifications } from './support/sockets';
import { login, type LoggedIn } from './support/http';
import { waitFor } from './support/wait';
import { storedNotifications } from './support/database';
import { useTestStack } from './support/stack';

describe('createHeraldPublisher: publishing from another Node service', () => {
  const stack = useTestStack();
  let publisher: HeraldPublisher;
  let bob: LoggedIn;

  beforeAll(async () => {
    bob = await login(stack.herald.url, 'bob');
    // Only the two URLs, as another service would have them.
    publisher = await createHeraldPublisher({ mongodbUri: stack.mongodbUri, redisUrl: stack.redis.url, logger: createLogger('silent') });
  });

  afterAll(async () => {
    await publisher?.close();
  });

  it('stores and delivers to a socket on the gateway, with idempotency and validation like the HTTP API', async () => {
    const socket = await connect(stack.herald.url, bob.token);
    const received = recordNotifications(socket);

    const result = await publisher.publishNotification(
      { userIds: [bob.user.id], type: 'order.placed', title: 'Order #1001 placed', actionUrl: '/orders/1001' },
      { idempotencyKey: 'order-1001-placed' },
    );
    await waitFor(() => expect(received.map((n) => n.id)).toEqual([result.notifications[0]!.id]));
    expect((await storedNotifications(stack.inspector, bob.user.id)).map((d) => d.title)).toEqual(['Order #1001 placed']);

    const again = await publisher.publishNotification(
      { userIds: [bob.user.id], type: 'order.placed', title: 'Order #1001 placed', actionUrl: '/orders/1001' },
      { idempotencyKey: 'order-1001-placed' },
    );
    expect(again.replayed).toBe(true);
    await expect(publisher.publishNotification({ userIds: ['no pe'], type: 'x', title: 't' })).rejects.toMatchObject({
      code: 'validation_failed',
      status: 400,
    });
  });
});
