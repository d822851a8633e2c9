import { feedKey } from '@herald/shared';
import { waitFor } from '../server/test/support/wait';
import { useTestStack } from '../server/test/support/stack';
import { useBalancedGateways } from '../server/test/support/balanced-gateways';
import { useFeedClients } from '../server/test/support/feed-clients';

const CLIENTS = 500;
const TENANT = 'kill-acme';

describe('a gateway instance is SIGKILLed', () => {
  const stack = useTestStack();
  const gateways = useBalancedGateways(stack);
  const feedClients = useFeedClients();

  it(`its ${CLIENTS} clients (the same users in their default feed and in a tenant's) reconnect to the other instance and catch up: nothing lost, nothing doubled, nothing across tenants`, async () => {
    const options = {
      url: () => gateways.balancer.url,
      tokens: stack.herald.gateway.tokens,
      reconnectionDelay: 200,
      reconnectionDelayMax: 2000,
    };
    const { users, clients: inDefault } = feedClients.open({ ...options, count: CLIENTS / 2 });
    const { clients: inTenant } = feedClients.open({ ...options, count: CLIENTS / 2, users, tenant: TENANT });
    const clients = [...inDefault, ...inTenant];
    const feeds = [...users, ...users.map((userId) => feedKey(TENANT, userId))];
    await waitFor(() => clients.forEach((c) => expect(c.connection).toBe('connected')), 30_000, 100);
    await Promise.all(clients.map((c) => c.sync()));

    const publish = async (title: string) => {
      await stack.herald.gateway.publishNotification({ userIds: users, type: 'fault.kill', title });
      await stack.herald.gateway.publishNotification({ userIds: users, type: 'fault.kill', title: `${title} (tenant)`, tenant: TENANT });
    };
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
    const byFeed = new Map<string, string[]>();
    for (const d of stored) byFeed.set(String(d.userId), [...(byFeed.get(String(d.userId)) ?? []), d._id.toHexString()]);
    clients.forEach((c, i) => expect(c.state.items.map((n) => n.id).sort()).toEqual(byFeed.get(feeds[i]!)!.sort()));
    for (const c of inTenant) expect(c.state.items.every((n) => n.tenant === TENANT)).toBe(true);
    for (const c of inDefault) expect(c.state.items.every((n) => n.tenant === undefined)).toBe(true);
    const metrics = await gateways.b.metrics();
    expect(metrics).toMatch(new RegExp(`^herald_connected_sockets ${CLIENTS}$`, 'm'));
  }, 240_000);
});
