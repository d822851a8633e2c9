import { io } from 'socket.io-client';
import type { ErrorBody } from '@herald/shared';
import { FeedClient, type FeedSocket } from '../../client/src/notifications/core/feed-client';
import { connect } from './support/sockets';
import { useTestStack } from './support/stack';
import { waitFor } from './support/wait';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a user's sockets are capped over every instance: a new one closes the oldest, which stays closed", () => {
  const stack = useTestStack({ instances: 2, env: { MAX_SOCKETS_PER_USER: '3' } });
  const token = (userId: string) => stack.herald.gateway.tokens.sign({ userId, name: userId }).token;

  it('the fourth tab closes the first with too_many_connections; the first does not reconnect', async () => {
    const clients: { client: FeedClient; errors: ErrorBody[]; closedWith: ErrorBody[] }[] = [];
    const open = (i: number) => {
      // Real reconnecting clients, as in a browser: an evicted one must not come back and evict the next.
      const socket: FeedSocket = io(stack.instances[i % 2]!.url, {
        auth: { token: token('cap-user') },
        transports: ['websocket'],
        forceNew: true,
        reconnectionDelay: 100,
        reconnectionDelayMax: 200,
      });
      const entry = { client: undefined as unknown as FeedClient, errors: [] as ErrorBody[], closedWith: [] as ErrorBody[] };
      socket.on('server:error', (error) => entry.errors.push(error));
      entry.client = new FeedClient(socket, { onClosed: (reason) => entry.closedWith.push(reason) });
      clients.push(entry);
      return entry;
    };
    const bystander = await connect(stack.instances[0]!.url, token('cap-other'));
    try {
      for (let i = 0; i < 3; i++) {
        open(i);
        await waitFor(() => expect(clients[i]!.client.connection).toBe('connected'));
        await sleep(20); // distinct connect times
      }
      open(3);
      await waitFor(() => expect(clients[0]!.client.connection).toBe('closed'));
      expect(clients[0]!.errors.map((e) => e.code)).toEqual(['too_many_connections']);
      expect(clients[0]!.closedWith.map((e) => e.code)).toEqual(['too_many_connections']);
      // A while later: still closed, the three newest connected, three ids in the user's set.
      await sleep(1000);
      expect(clients.map(({ client }) => client.connection)).toEqual(['closed', 'connected', 'connected', 'connected']);
      expect(await stack.redisClient.zcard(stack.names.socketsKey('cap-user'))).toBe(3);
      expect(bystander.connected).toBe(true);
      // A closed tab leaves its place: the next one closes nobody.
      clients[3]!.client.close();
      await waitFor(async () => expect(await stack.redisClient.zcard(stack.names.socketsKey('cap-user'))).toBe(2));
      open(4);
      await waitFor(() => expect(clients[4]!.client.connection).toBe('connected'));
      await sleep(300);
      expect(clients.map(({ client }) => client.connection)).toEqual(['closed', 'connected', 'connected', 'closed', 'connected']);
    } finally {
      for (const { client } of clients) client.close();
    }
  });

  it("counts a person's sockets in every tenant together: a tenant's is no way around the cap", async () => {
    const person = 'cap-tenants';
    const granted = stack.herald.gateway.tokens.sign({ userId: person, name: person, tenants: ['acme', 'globex'] }).token;
    const first = await connect(stack.instances[0]!.url, granted, { auth: { tenant: 'acme' } });
    await sleep(20);
    await connect(stack.instances[1]!.url, granted, { auth: { tenant: 'globex' } });
    await sleep(20);
    await connect(stack.instances[0]!.url, granted);
    await sleep(20);
    expect(await stack.redisClient.zcard(stack.names.socketsKey(person))).toBe(3);
    const closed = new Promise<ErrorBody>((resolve) => first.once('server:error', resolve));
    await connect(stack.instances[1]!.url, granted, { auth: { tenant: 'acme' } });
    expect((await closed).code).toBe('too_many_connections');
    await waitFor(() => expect(first.connected).toBe(false));
  });

  it('the new socket is never the one taken out, even behind entries with later times; entries older than a day go', async () => {
    const key = stack.names.socketsKey('cap-ties');
    const later = Date.now() + 60_000;
    await stack.redisClient.zadd(key, later, 'ghost-a', later, 'ghost-b', later, 'ghost-c', Date.now() - 2 * 86_400_000, 'ghost-stale');
    const socket = await connect(stack.instances[0]!.url, token('cap-ties'));
    await waitFor(async () => expect(await stack.redisClient.zrange(key, '0', '-1')).toEqual([socket.id, 'ghost-b', 'ghost-c']));
    await sleep(200);
    expect(socket.connected).toBe(true);
    socket.close();
  });
});

describe('sockets from one address are capped on each instance, before the token is checked', () => {
  const stack = useTestStack({ env: { MAX_SOCKETS_PER_ADDRESS: '3' } });
  const token = (userId: string) => stack.herald.gateway.tokens.sign({ userId, name: userId }).token;

  it('the fourth is refused with too_many_connections, even with a bad token; a freed place is taken again', async () => {
    const sockets = [];
    for (let i = 0; i < 3; i++) sockets.push(await connect(stack.herald.url, token(`cap-a${i}`)));
    const refused = await connect(stack.herald.url, 'not-a-token').then(
      () => undefined,
      (error: Error & { data?: ErrorBody }) => error.data,
    );
    expect(refused?.code).toBe('too_many_connections');
    sockets[0]!.close();
    await waitFor(async () => expect((await connect(stack.herald.url, token('cap-a3'))).connected).toBe(true));
  });
});
