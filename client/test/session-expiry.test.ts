import jwt from 'jsonwebtoken';
import { io } from 'socket.io-client';
import type { ErrorBody } from '@herald/shared';
import { login } from '../../server/test/support/http';
import { waitFor } from '../../server/test/support/wait';
import { TEST_JWT_SECRET } from '../../server/test/support/herald';
import { useTestStack } from '../../server/test/support/stack';
import { FeedClient, type FeedSocket } from '../src/notifications/core/feed-client';

describe('a token that expires during a session', () => {
  const stack = useTestStack();

  it('ends the session: the server closes the socket, the reconnect is refused as token_expired, and the client signs out once', async () => {
    const bob = await login(stack.herald.url, 'bob');
    const token = jwt.sign({ name: bob.user.name }, TEST_JWT_SECRET, { subject: bob.user.id, expiresIn: 2 });
    const socket: FeedSocket = io(stack.herald.url, { auth: { token }, transports: ['websocket'], forceNew: true, reconnectionDelay: 50 });
    const signedOut: ErrorBody[] = [];
    const client = new FeedClient(socket, { onSignedOut: (reason) => signedOut.push(reason) });
    try {
      await waitFor(() => expect(client.connection).toBe('connected'));
      await waitFor(() => expect(client.connection).toBe('signed-out'), 8000);
      expect(signedOut).toEqual([expect.objectContaining({ code: 'token_expired' })]);
      expect(socket.connected).toBe(false);
      expect(socket.active).toBe(false);
    } finally {
      socket.close();
    }
  });
});
