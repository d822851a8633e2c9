import { userRoom } from '@herald/shared';
import { useTestStack } from './support/stack';
import { connect, recordNotifications } from './support/sockets';
import { waitFor } from './support/wait';

describe('users only ever see their own notifications', () => {
  const stack = useTestStack({ users: ['alice', 'bob'] });
  const { users } = stack;

  /** Publishes a fence to the user and waits for it: anything published to them before it has arrived by then. */
  async function fence(userId: string, received: { title: string }[]): Promise<void> {
    await stack.herald.gateway.publishNotification({ userIds: [userId], type: 'test.fence', title: 'fence' });
    await waitFor(() => expect(received.some((n) => n.title === 'fence')).toBe(true));
  }

  it("user A never receives user B's notifications", async () => {
    const aliceSocket = await connect(stack.herald.url, users.alice.token);
    const bobSocket = await connect(stack.herald.url, users.bob.token);
    const toAlice = recordNotifications(aliceSocket);
    const toBob = recordNotifications(bobSocket);

    await stack.herald.gateway.publishNotification({ userIds: [users.bob.user.id], type: 'dm.received', title: 'for users.bob only' });
    await waitFor(() => expect(toBob).toHaveLength(1));
    await fence(users.alice.user.id, toAlice);

    expect(toAlice.map((n) => n.title)).toEqual(['fence']);
  });

  it("no client event gets a socket into another user's room", async () => {
    // The handshake carries extra claims; only the verified token counts.
    const socket = await connect(stack.herald.url, users.alice.token);
    const sneaky = socket as unknown as { emit: (event: string, ...args: unknown[]) => void };
    const bobRoom = userRoom(users.bob.user.id);
    for (const event of ['join', 'subscribe', 'topic:subscribe', 'room:join', 'joinRoom', 'notifications:sync']) {
      sneaky.emit(event, bobRoom);
      sneaky.emit(event, { room: bobRoom, userId: users.bob.user.id, topic: bobRoom, afterSeq: 0 });
    }
    const toAlice = recordNotifications(socket);

    const aliceRoomSockets = await stack.herald.gateway.io.in(bobRoom).fetchSockets();
    expect(aliceRoomSockets).toHaveLength(0);

    await stack.herald.gateway.publishNotification({ userIds: [users.bob.user.id], type: 'dm.received', title: 'secret for bob' });
    await fence(users.alice.user.id, toAlice);
    expect(toAlice.map((n) => n.title)).toEqual(['fence']);
  });

  it('a handshake claiming another user id is bound to the token owner', async () => {
    const socket = await connect(stack.herald.url, users.alice.token, {
      auth: { userId: users.bob.user.id },
      query: { userId: users.bob.user.id },
    });
    try {
      const [server] = await stack.herald.gateway.io.in(userRoom(users.alice.user.id)).fetchSockets();
      expect(server?.data.userId).toBe(users.alice.user.id);
      const sync = await socket.emitWithAck('notifications:sync', { afterSeq: 0 });
      expect(sync.data?.notifications.every((n) => n.userId === users.alice.user.id)).toBe(true);
    } finally {
      socket.close();
    }
  });
});
