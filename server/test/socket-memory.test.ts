import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { io } from 'socket.io-client';
import { connect, recordNotifications } from './support/sockets';
import { useTestStack } from './support/stack';
import { sleep, waitFor } from './support/wait';

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Whether every request is gone after full collections, asked for up to 2 s (a WeakRef keeps its target
 * until the job that read it ends, and a request may still be on its way through a callback).
 */
async function collected(refs: WeakRef<object>[]): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    await sleep(50);
    gc();
    await sleep(0);
    if (refs.every((ref) => ref.deref() === undefined)) return true;
  }
  return false;
}

describe('memory held per connected socket', () => {
  const stack = useTestStack({ users: ['alice'] });
  const requests: WeakRef<object>[] = [];
  // Every request a socket came in on: the first one (engine.io's `connection`), and a WebSocket upgrade.
  const onEngineConnection = (raw: { request: object }) => requests.push(new WeakRef(raw.request));
  const onUpgrade = (request: object) => requests.push(new WeakRef(request));

  beforeAll(() => {
    stack.herald.gateway.io.engine.on('connection', onEngineConnection);
    stack.herald.gateway.httpServer.prependListener('upgrade', onUpgrade);
  });
  afterAll(() => {
    stack.herald.gateway.io.engine.off('connection', onEngineConnection);
    stack.herald.gateway.httpServer.off('upgrade', onUpgrade);
  });
  beforeEach(() => void (requests.length = 0));

  it("lets WebSocket clients' upgrade requests be collected once connected, and the sockets still work", async () => {
    const sockets = [];
    for (let i = 0; i < 3; i++) sockets.push(await connect(stack.herald.url, stack.users.alice.token));
    const received = recordNotifications(sockets[0]!);
    // Each request is seen twice: as the upgrade and as engine.io's connection. (Compared here, not in
    // expect(), which would keep a reference to what it was given.)
    expect(requests).toHaveLength(6);
    expect(requests[0]!.deref() === requests[1]!.deref()).toBe(true);
    expect(await collected(requests)).toBe(true);

    await stack.herald.gateway.publishNotification({ userIds: [stack.users.alice.user.id], type: 't', title: 'still delivered' });
    await waitFor(() => expect(received.map((n) => n.title)).toEqual(['still delivered']));
    for (const socket of sockets) socket.close();
    await waitFor(() => expect(stack.herald.gateway.io.of('/').sockets.size).toBe(0));
  });

  it('does the same for a client that starts on long-polling and upgrades', async () => {
    const socket = io(stack.herald.url, { reconnection: false, forceNew: true, auth: { token: stack.users.alice.token } });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.io.engine.once('upgrade', () => resolve());
        socket.once('connect_error', reject);
      });
      // The first polling request and the upgrade's.
      await waitFor(() => expect(requests).toHaveLength(2));
      expect(requests[0]!.deref() === requests[1]!.deref()).toBe(false);
      await sleep(50);
      expect(await collected(requests)).toBe(true);
      expect(socket.connected).toBe(true);
    } finally {
      socket.close();
    }
  });

  it('leaves the upgrade response alone when a host added an engine middleware: its close still fires', async () => {
    let closed = 0;
    const middleware = (_req: unknown, res: { on(event: 'close', listener: () => void): void }, next: () => void) => {
      res.on('close', () => closed++);
      next();
    };
    const engine = stack.herald.gateway.io.engine as unknown as { use(fn: typeof middleware): void; middlewares: unknown[] };
    engine.use(middleware);
    try {
      const socket = await connect(stack.herald.url, stack.users.alice.token);
      socket.close();
      await waitFor(() => expect(closed).toBe(1));
    } finally {
      engine.middlewares.splice(engine.middlewares.indexOf(middleware), 1);
    }
  });

  it("drops engine.io's no-op pre-upgrade error listener: a WebSocket error still reaches the transport and ends the socket", async () => {
    const client = await connect(stack.herald.url, stack.users.alice.token);
    const [socket] = [...stack.herald.gateway.io.of('/').sockets.values()];
    const websocket = (socket!.conn as unknown as { transport: { socket: NodeJS.EventEmitter } }).transport.socket;
    expect(websocket.rawListeners('error').map((listener) => listener.name)).toEqual(['bound onError']);
    // The socket's only middleware (the event rate limit) in an array of one.
    expect((socket as unknown as { fns: unknown[] }).fns).toHaveLength(1);
    const reason = new Promise<string>((resolve) => socket!.once('disconnect', resolve));
    websocket.emit('error', new Error('a broken frame'));
    expect(await reason).toBe('transport error');
    client.close();
  });
});
