import { createHeraldPublisher, type HeraldPublisher } from '../src';
import type { TopicMessage } from '@herald/shared';
import { createLogger } from '../src/platform/logger';
import { connect, recordNotifications } from './support/sockets';
import { login, type LoggedIn } from './support/http';
import { sleep, waitFor } from './support/wait';
import { storedNotifications } from './support/database';
import { useTestStack } from './support/stack';

describe('createHeraldPublisher: publishing from another Node service', () => {
  const stack = useTestStack();
  // Its own block, so the publisher is closed before the stack's Redis stops.
  describe('one publisher', () => {
    let publisher: HeraldPublisher;
    let bob: LoggedIn;
    let carol: LoggedIn;

    beforeAll(async () => {
      bob = await login(stack.herald.url, 'bob');
      carol = await login(stack.herald.url, 'carol');
      // Only the two URLs, as another service would have them.
      publisher = await createHeraldPublisher({ mongodbUri: stack.mongodbUri, redisUrl: stack.redis.url, logger: createLogger('silent') });
    });

    afterAll(async () => {
      await publisher?.close();
    });

    it('sets, reads and forgets recipients, as the gateways read them', async () => {
      // Not a demo user: the demo gives those an address of its own.
      const zoe = 'publisher-zoe';
      const { recipient, created } = await publisher.recipients.set(zoe, { email: 'zoe@example.com', locale: 'fr' });
      expect(created).toBe(true);
      expect(recipient).toMatchObject({ userId: zoe, email: 'zoe@example.com', locale: 'fr' });
      expect(await stack.herald.gateway.recipients.get(zoe)).toEqual(recipient);
      await expect(publisher.recipients.set(zoe, { email: 'nope' })).rejects.toMatchObject({ code: 'validation_failed' });
      expect(await publisher.recipients.forget(zoe)).toBe(true);
      expect(await publisher.recipients.get(zoe)).toBeNull();
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

    it('creates topics, manages members and sends topic messages straight to the subscribers, without HTTP', async () => {
      const bobSocket = await connect(stack.herald.url, bob.token);
      const carolSocket = await connect(stack.herald.url, carol.token);
      const got = { bob: [] as TopicMessage[], carol: [] as TopicMessage[] };
      bobSocket.on('topic:message', (m: TopicMessage) => got.bob.push(m));
      carolSocket.on('topic:message', (m: TopicMessage) => got.carol.push(m));

      expect(await publisher.topics.ensure({ name: 'order:1001', visibility: 'private' })).toMatchObject({
        name: 'order:1001',
        visibility: 'private',
      });
      expect((await bobSocket.emitWithAck('topic:subscribe', { topic: 'order:1001' })).error?.code).toBe('forbidden');
      expect(await publisher.topics.addMember('order:1001', { id: bob.user.id })).toBe(true);
      expect(await publisher.topics.addMember('order:1001', { id: carol.user.id })).toBe(true);
      expect((await publisher.topics.members('order:1001')).sort()).toEqual([bob.user.id, carol.user.id].sort());
      // Added members' sockets join on their own (the change is announced on their user channels).
      await waitFor(async () => expect(await publisher.topics.publishToTopic('order:1001', { event: 'probe' })).toBe(1));
      await waitFor(() => expect(got.bob.length + got.carol.length).toBeGreaterThanOrEqual(2));

      got.bob.length = 0;
      got.carol.length = 0;
      await publisher.topics.publishToTopic(
        'order:1001',
        { event: 'order.shipped', data: { carrier: 'DHL' } },
        { excludeUserId: carol.user.id },
      );
      await waitFor(() => expect(got.bob.map((m) => m.event)).toEqual(['order.shipped']));
      expect(got.bob[0]).toMatchObject({ topic: 'order:1001', data: { carrier: 'DHL' } });

      expect(await publisher.topics.removeMember('order:1001', { id: bob.user.id })).toBe(true);
      await waitFor(async () => {
        await publisher.topics.publishToTopic('order:1001', { event: 'after.removal' });
        expect(got.carol.some((m) => m.event === 'after.removal')).toBe(true);
      });
      await sleep(100);
      expect(got.bob.map((m) => m.event)).toEqual(['order.shipped']);
      expect(got.carol.map((m) => m.event)).not.toContain('order.shipped');

      await expect(publisher.topics.publishToTopic('no colon', { event: 'x' })).rejects.toMatchObject({
        code: 'validation_failed',
        status: 400,
      });
      await expect(publisher.topics.publishToTopic('order:1001', { event: '' })).rejects.toMatchObject({ code: 'validation_failed' });
      await expect(publisher.topics.ensure({ name: 'order 1' })).rejects.toMatchObject({ code: 'validation_failed' });
      await expect(publisher.topics.addMember('order:1001', { id: 'has space' })).rejects.toMatchObject({ code: 'validation_failed' });
      await expect(publisher.topics.addMember('order:404', { id: bob.user.id })).rejects.toMatchObject({ code: 'not_found', status: 404 });
      await expect(
        publisher.topics.publishToTopic('order:1001', { event: 'x' }, { excludeUserId: 42 as unknown as string }),
      ).rejects.toMatchObject({ code: 'validation_failed' });
      bobSocket.disconnect();
      carolSocket.disconnect();
    });
  });
});
