import { asUser, postNotification } from './support/http';
import { connect, recordNotifications } from './support/sockets';
import { waitFor } from './support/wait';
import { useTestStack } from './support/stack';

describe('categories, tags and data filters', () => {
  const stack = useTestStack();
  const userId = 'tabs-user';
  const token = () => stack.herald.gateway.tokens.sign({ userId, name: 'Tabs' }).token;
  const api = () => asUser(stack.herald.url, token());

  beforeAll(async () => {
    const publish = (body: Record<string, unknown>) =>
      postNotification(stack.herald.url, { userIds: [userId], type: 'a.b', ...body }).expect(201);
    await publish({ title: 'comment', category: 'social', tags: ['reply'], data: { postId: 'p1' } });
    await publish({ title: 'mention', category: 'social', tags: ['mention', 'reply'], data: { postId: 'p2' } });
    await publish({ title: 'invoice', category: 'billing', data: { amount: 5, paid: false } });
    await publish({ title: 'plain' });
  });

  const titles = async (query: string) =>
    ((await api().get(`/api/notifications?${query}`).expect(200)).body.items as { title: string }[]).map((n) => n.title);

  it('stores category and tags and sends them live', async () => {
    const socket = await connect(stack.herald.url, token());
    const got = recordNotifications(socket);
    await postNotification(stack.herald.url, {
      userIds: [userId],
      type: 'a.b',
      title: 'live',
      category: 'social',
      tags: ['x', 'x', 'y'],
    }).expect(201);
    await waitFor(() => expect(got[0]).toMatchObject({ title: 'live', category: 'social', tags: ['x', 'y'] }));
    const synced = await socket.emitWithAck('notifications:sync', { afterSeq: 0 });
    expect(synced.data!.notifications.find((n) => n.title === 'plain')).not.toHaveProperty('tags');
    await api().delete(`/api/notifications/${got[0]!.id}`).expect(200);
  });

  it('lists by category, by any of the tags and by data fields', async () => {
    expect(await titles('category=social')).toEqual(['mention', 'comment']);
    expect(await titles('tags=mention')).toEqual(['mention']);
    expect(await titles('tags=mention,reply')).toEqual(['mention', 'comment']);
    expect(await titles('category=social&data.postId=p1')).toEqual(['comment']);
    // Query strings are text: 5 and false also match the number and the boolean.
    expect(await titles('data.amount=5')).toEqual(['invoice']);
    expect(await titles('data.paid=false')).toEqual(['invoice']);
    expect(await titles('category=nothing')).toEqual([]);
  });

  it('counts several filters at once, over HTTP and the socket, and they follow changes', async () => {
    const filters = { all: {}, social: { category: 'social' }, mentions: { tags: ['mention'] }, billing: { category: 'billing' } };
    const before = (await api().post('/api/notifications/counts').send({ filters }).expect(200)).body.counts;
    expect(before).toEqual({
      all: { unread: 4, unseen: 4 },
      social: { unread: 2, unseen: 2 },
      mentions: { unread: 1, unseen: 1 },
      billing: { unread: 1, unseen: 1 },
    });
    const [mention] = (await api().get('/api/notifications?tags=mention').expect(200)).body.items;
    await api().post(`/api/notifications/${mention.id}/read`).expect(200);
    const socket = await connect(stack.herald.url, token());
    const after = await socket.emitWithAck('notifications:counts', { filters });
    expect(after.data!.counts).toMatchObject({ all: { unread: 3 }, social: { unread: 1 }, mentions: { unread: 0, unseen: 0 } });
  });

  it('refuses bad categories, tags and filters with the field named', async () => {
    const refused = async (body: Record<string, unknown>, field: string) => {
      const res = await postNotification(stack.herald.url, { userIds: [userId], type: 'a.b', title: 't', ...body }).expect(400);
      expect(JSON.stringify(res.body.error)).toContain(field);
    };
    await refused({ category: 'Has Space' }, 'category');
    await refused({ tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, 'tags');
    await refused({ tags: ['$gt'] }, 'tags');
    for (const query of ['category=%24ne', 'data.%24where=1', 'data.a.b=1', 'tags=']) {
      expect((await api().get(`/api/notifications?${query}`).expect(400)).body.error.code).toBe('validation_failed');
    }
    const tooMany = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}`, {}]));
    expect((await api().post('/api/notifications/counts').send({ filters: tooMany }).expect(400)).body.error.code).toBe(
      'validation_failed',
    );
    const socket = await connect(stack.herald.url, token());
    const answer = await socket.emitWithAck('notifications:counts', { filters: { x: { data: { $gt: 1 } } } } as never);
    expect(answer.error?.code).toBe('validation_failed');
  });
});
