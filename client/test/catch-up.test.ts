import type { Notification } from '@herald/shared';
import { io } from 'socket.io-client';
import { createLogger } from '../../server/src/platform/logger';
import { Redis } from 'ioredis';
import { createNotificationCore } from '../../server/src/notifications/notification-core';
import { closeAllSockets } from '../../server/test/support/sockets';
import { login, type LoggedIn } from '../../server/test/support/http';
import { waitFor } from '../../server/test/support/wait';
import { useTestStack } from '../../server/test/support/stack';
import { FeedClient, type FeedSocket } from '../src/notifications/core/feed-client';

/**
 * The client's catch-up protocol against a real gateway: the FeedClient the
 * React app uses, over a real socket.io-client connection.
 */
describe('exact catch-up after being offline', () => {
  const stack = useTestStack();
  let bob: LoggedIn;
  const clients: FeedSocket[] = [];

  beforeAll(async () => {
    bob = await login(stack.herald.url, 'bob');
  });

  afterEach(() => {
    for (const socket of clients.splice(0)) socket.close();
    closeAllSockets();
  });

  function feedClient(token: string): { client: FeedClient; socket: FeedSocket; live: string[] } {
    const socket: FeedSocket = io(stack.herald.url, {
      auth: { token },
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
    });
    clients.push(socket);
    const live: string[] = [];
    const client = new FeedClient(socket, { onLive: (n) => live.push(n.id) });
    return { client, socket, live };
  }

  const publish = (title: string) =>
    stack.herald.gateway.publishNotification({ userIds: [bob.user.id], type: 'post.liked', title }).then((r) => r.notifications[0]!);

  it('a client that misses 50 notifications while disconnected gets exactly those 50, in seq order, once, with the right unread count', async () => {
    const { client, socket } = feedClient(bob.token);
    await waitFor(() => expect(client.connection).toBe('connected'));
    const before = await publish('before');
    await waitFor(() => expect(client.state.items.map((n) => n.id)).toContain(before.id));

    socket.disconnect();
    const missed: Notification[] = [];
    for (let i = 1; i <= 50; i++) missed.push(await publish(`missed ${i}`));

    const syncs: number[] = [];
    socket.on('connect', () => syncs.push(client.state.lastSeq));
    socket.connect();
    await waitFor(() => expect(client.state.lastSeq).toBe(missed.at(-1)!.seq));

    expect(syncs).toEqual([before.seq]);
    const items = client.state.items;
    expect(items.map((n) => n.id)).toEqual(
      [...missed]
        .reverse()
        .map((n) => n.id)
        .concat(before.id),
    );
    expect(new Set(items.map((n) => n.id)).size).toBe(items.length);
    expect(client.state.unread).toBe(51);
  });

  it('live delivery and sync overlapping show each notification once', async () => {
    const { client } = feedClient(bob.token);
    await waitFor(() => expect(client.connection).toBe('connected'));
    await client.sync();
    const published: Notification[] = [];
    for (let i = 0; i < 20; i++) {
      published.push(await publish(`overlap ${i}`));
      if (i % 4 === 0) void client.sync(); // syncs racing the live messages
    }
    await waitFor(() => expect(client.state.lastSeq).toBe(published.at(-1)!.seq));
    await client.sync();
    const ids = client.state.items.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const n of published) expect(ids.filter((id) => id === n.id)).toHaveLength(1);
  });

  it('a live message that is lost shows as a gap in seq, and a sync fills it', async () => {
    const { client, live } = feedClient(bob.token);
    await waitFor(() => expect(client.connection).toBe('connected'));
    await client.sync();

    // Stored for real, but its live message is dropped: exactly what a lost pub/sub message looks like.
    const redis = new Redis(stack.redis.url);
    const logger = createLogger('silent');
    const lossy = createNotificationCore({
      connection: stack.inspector,
      redis,
      names: stack.names,
      logger,
      userChannel: { publish: async () => [] },
    }).publishNotification;
    const {
      notifications: [lost],
    } = await lossy({ userIds: [bob.user.id], type: 'post.liked', title: 'lost on the way' });
    const next = await publish('arrives live');

    await waitFor(() => expect(client.state.items.map((n) => n.id)).toEqual(expect.arrayContaining([lost!.id, next.id])));
    // Both are announced once (a toast each): the lost one arrived while the user was here, by the sync.
    expect(live).toEqual([next.id, lost!.id]);
    expect(client.state.lastSeq).toBe(next.seq);
    expect(client.state.items.filter((n) => n.id === lost!.id)).toHaveLength(1);
    redis.disconnect();
  });
});
