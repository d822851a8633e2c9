import { waitFor } from '../server/test/support/wait';
import { useTestStack } from '../server/test/support/stack';
import { useBalancedGateways } from '../server/test/support/balanced-gateways';
import { useFeedClients } from '../server/test/support/feed-clients';

const CLIENTS = 500;

describe('a gateway instance is SIGKILLed', () => {
  const stack = useTestStack();
  const gateways = useBalancedGateways(stack);
  const feedClients = useFeedClients();

  it(`its ${CLIENTS} clients reconnect to the other instance and catch up: nothing lost, nothing doubled`, async () => {
    const { users, clients } = feedClients.open({
      count: CLIENTS,
      url: () => gateways.balancer.url,
      tokens: stack.herald.gateway.tokens,
      reconnectionDelay: 200,
      reconnectionDelayMax: 2000,
    });
    await waitFor(() => clients.forEach((c) => expect(c.connection).toBe('connected')), 30_000, 100);
    await Promise.all(clients.map((c) => c.sync()));

    const publish = (title: string) => stack.herald.gateway.publishNotification({ userIds: users, type: 'fault.kill', title });
    await publish('before the crash');
    gateways.a.child.kill('SIGKILL');
    await gateways.a.exited;
    await publish('right after the crash');
    await publish('a little later');

    await waitFor(() => clients.forEach((c) => expect(c.connection).toBe('connected')), 60_000, 200);
    await waitFor(() => clients.forEach((c) => expect(c.state.items).toHaveLength(3)), 90_000, 200);
    const stored = await stack.inspector
      .collection('notifications')
      .find({}, { projection: { userId: 1 } })
      .toArray();
    expect(stored).toHaveLength(CLIENTS * 3);
    const byUser = new Map<string, string[]>();
    for (const d of stored) byUser.set(String(d.userId), [...(byUser.get(String(d.userId)) ?? []), d._id.toHexString()]);
    clients.forEach((c, i) => expect(c.state.items.map((n) => n.id).sort()).toEqual(byUser.get(users[i]!)!.sort()));
    const metrics = await gateways.b.metrics();
    expect(metrics).toMatch(new RegExp(`^herald_connected_sockets ${CLIENTS}$`, 'm'));
  }, 240_000);
});
