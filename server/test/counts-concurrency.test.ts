import { asUser, login } from './support/http';
import { useTestStack } from './support/stack';

describe('counts under concurrent mark-read and publish', () => {
  const stack = useTestStack({ instances: 2 });

  it('the counts the API reports match what is stored, after 60 publishes racing 30 reads and a read-all', async () => {
    const carol = await login(stack.herald.url, 'carol');
    const owner = carol.user.id;
    const seed = [];
    for (let i = 0; i < 30; i++) {
      seed.push(
        (await stack.herald.gateway.publishNotification({ userIds: [carol.user.id], type: 'a.b', title: `seed ${i}` })).notifications[0]!,
      );
    }
    const [a, b] = stack.instances;
    const apiA = asUser(a!.url, carol.token);
    const apiB = asUser(b!.url, carol.token);

    await Promise.all([
      ...Array.from({ length: 60 }, (_, i) =>
        (i % 2 ? a! : b!).gateway.publishNotification({ userIds: [carol.user.id], type: 'a.b', title: `new ${i}` }),
      ),
      ...seed.map((n, i) => (i % 2 ? apiA : apiB).post(`/api/notifications/${n.id}/read`).expect(200)),
    ]);

    const truth = async () => ({
      unread: await stack.inspector.collection('notifications').countDocuments({ userId: owner, readAt: null, archivedAt: null }),
      unseen: await stack.inspector.collection('notifications').countDocuments({ userId: owner, seenAt: null, archivedAt: null }),
    });
    expect(await truth()).toMatchObject({ unread: 60, unseen: 60 });
    expect((await apiA.get('/api/notifications/counts').expect(200)).body).toMatchObject(await truth());

    const [readAll] = await Promise.all([
      apiB.post('/api/notifications/read-all').expect(200),
      ...Array.from({ length: 10 }, (_, i) =>
        a!.gateway.publishNotification({ userIds: [carol.user.id], type: 'a.b', title: `late ${i}` }),
      ),
    ]);
    const final = await truth();
    expect((await apiB.get('/api/notifications/counts').expect(200)).body).toMatchObject(final);
    expect(final.unread).toBeLessThanOrEqual(10);
    expect(readAll.body.counts.unread).toBeLessThanOrEqual(10);
    const seqs = (await stack.inspector.collection('notifications').find({ userId: owner }).toArray()).map((d) => d.seq as number);
    expect(new Set(seqs).size).toBe(100);
    expect(Math.max(...seqs)).toBe(100);
  });
});

describe('counts read while notifications are being published', () => {
  const stack = useTestStack();

  it('never count a notification twice: a count that saw an insert is not incremented again by it', async () => {
    for (let round = 0; round < 8; round++) {
      const userId = `racer-${round}`;
      const api = asUser(stack.herald.url, stack.herald.gateway.tokens.sign({ userId, name: 'racer' }).token);
      await Promise.all([
        ...Array.from({ length: 20 }, (_, i) =>
          stack.herald.gateway.publishNotification({ userIds: [userId], type: 'a.b', title: `n ${i}` }),
        ),
        ...Array.from({ length: 40 }, () => api.get('/api/notifications/counts').expect(200)),
      ]);
      expect((await api.get('/api/notifications/counts').expect(200)).body).toMatchObject({ unread: 20, unseen: 20 });
    }
  });
});
