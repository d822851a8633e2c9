import jwt from 'jsonwebtoken';
import { io } from 'socket.io-client';
import type { Notification } from '@herald/shared';
import { TEST_JWT_SECRET } from '../../server/test/support/herald';
import { useTestStack } from '../../server/test/support/stack';
import { exactly, sleep, waitFor } from '../../server/test/support/wait';
import { FeedClient, type FeedSocket } from '../src/notifications/core/feed-client';
import { keepTokenFresh, refreshDelay, tokenExpiry } from '../src/notifications/core/token-refresh';

const mint = (userId: string, seconds: number) => jwt.sign({ name: userId }, TEST_JWT_SECRET, { subject: userId, expiresIn: seconds });

describe('short-lived tokens on a live socket', () => {
  const stack = useTestStack();
  const sockets: FeedSocket[] = [];
  afterAll(() => sockets.forEach((s) => s.close()));

  const open = (getToken: () => Promise<string>) => {
    const socket: FeedSocket = io(stack.herald.url, {
      auth: (cb) => void getToken().then((token) => cb({ token })),
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 100,
    });
    sockets.push(socket);
    return socket;
  };

  it('are refreshed before they expire: the socket stays up for several token lifetimes and keeps receiving', async () => {
    let minted = 0;
    const getToken = async () => {
      minted++;
      return mint('refreshing-client', 3);
    };
    const socket = open(getToken);
    const client = new FeedClient(socket, { retryRefusedToken: true });
    const stop = keepTokenFresh(socket, getToken, { leadMs: 1500 });
    let disconnects = 0;
    socket.on('disconnect', () => disconnects++);
    await waitFor(() => expect(client.connection).toBe('connected'));
    await sleep(7000); // more than two lifetimes of a 3-second token
    expect(disconnects).toBe(0);
    expect(minted).toBeGreaterThanOrEqual(4);
    const received = exactly<Notification>(1, 'notification');
    socket.on('notification', received.record);
    await stack.herald.gateway.publishNotification({ userIds: ['refreshing-client'], type: 'a.b', title: 'still live' });
    expect((await received.settled())[0]?.title).toBe('still live');
    stop();
  }, 20_000);

  it('a token shorter-lived than the lead is refreshed at half its life, not in a loop; a cached token is not resent', async () => {
    let minted = 0;
    let cached = { token: mint('short-lived', 4), until: Date.now() + 1000 };
    // Like an identity SDK: the same token for a second, then a new 4-second one.
    const getToken = async () => {
      if (Date.now() > cached.until) cached = { token: mint('short-lived', 4), until: Date.now() + 1000 };
      minted++;
      return cached.token;
    };
    const socket = open(getToken);
    const refreshes: unknown[] = [];
    // socket.timeout(ms) sets a flag and returns the socket itself: its emitWithAck is what sends.
    const send = socket.emitWithAck.bind(socket);
    socket.emitWithAck = ((event: string, ...args: unknown[]) => {
      if (event === 'auth:refresh') refreshes.push(args[0]);
      return (send as (...a: unknown[]) => Promise<unknown>)(event, ...args);
    }) as typeof socket.emitWithAck;
    let disconnects = 0;
    socket.on('disconnect', () => disconnects++);
    // The default 60-second lead is longer than the token's life: this refreshed without pause.
    const stop = keepTokenFresh(socket, getToken);
    await sleep(6500);
    stop();
    expect(disconnects).toBe(0);
    // About every 1-2 s (half of what is left of a token of at most 4 s, read when it arrives), each with
    // a token that lasts longer than the one before; without the limit it was hundreds.
    expect(refreshes.length).toBeGreaterThanOrEqual(2);
    expect(refreshes.length).toBeLessThanOrEqual(8);
    expect(minted).toBeLessThan(20);
    const expiries = refreshes.map((r) => tokenExpiry((r as { token: string }).token)!);
    expect(expiries).toEqual([...new Set(expiries)].sort((a, b) => a - b));
  }, 20_000);

  it('waits half a short token’s life at most, and never less than the minimum interval', () => {
    const now = 1_000_000;
    expect(refreshDelay(now + 300_000, now, now)).toBe(240_000);
    expect(refreshDelay(now + 60_000, now, now)).toBe(30_000);
    expect(refreshDelay(now + 60_000, now, now, { leadMs: 10_000 })).toBe(50_000);
    expect(refreshDelay(now + 500, now, now)).toBe(1000);
    expect(refreshDelay(now + 500, now, now, { minIntervalMs: 200 })).toBe(250);
  });

  it('a token refused as expired is retried once with a fresh one before the client signs out', async () => {
    const tokens = [mint('late-client', -10), mint('late-client', 600)];
    const signedOut: unknown[] = [];
    const socket = open(async () => tokens.shift() ?? mint('late-client', -10));
    const client = new FeedClient(socket, { retryRefusedToken: true, onSignedOut: (reason) => signedOut.push(reason) });
    await waitFor(() => expect(client.connection).toBe('connected'));
    expect(signedOut).toEqual([]);
  });

  it('reads the expiry of a JWT, and none from an opaque token', () => {
    const token = mint('x', 60);
    expect(tokenExpiry(token)).toBe((jwt.decode(token) as { exp: number }).exp * 1000);
    expect(tokenExpiry('opaque-session-id')).toBeNull();
  });
});
