import { Types } from 'mongoose';
import { io } from 'socket.io-client';
import { FeedClient, type FeedSocket } from '../../client/src/notifications/core/feed-client';
import { storedNotifications } from './support/database';
import { asUser, postNotification } from './support/http';
import { connect } from './support/sockets';
import { sleep, waitFor } from './support/wait';
import { useTestStack } from './support/stack';

describe('digest and grouping', () => {
  const stack = useTestStack({ instances: 2 });
  const token = (userId: string) => stack.herald.gateway.tokens.sign({ userId, name: userId }).token;
  const title = { one: '{actor} and 1 other commented on your post', other: '{actor} and {others} others commented on your post' };
  const comment = (userId: string, actor: string, extra: Record<string, unknown> = {}, url = stack.herald.url) =>
    postNotification(url, {
      userIds: [userId],
      type: 'comment.created',
      title: `${actor} commented on your post`,
      actor: { id: actor.toLowerCase(), name: actor },
      group: { key: 'post:1:comments', title },
      ...extra,
    }).expect(201);
  /** Every document of the user, gaps too, oldest first. */
  const everything = (userId: string) => stack.inspector.collection('notifications').find({ userId }).sort({ seq: 1 }).toArray();

  it('collapses into one item that moves up, unread, with the count and the latest actors; devices follow', async () => {
    const userId = 'group-author';
    const other = (
      await postNotification(stack.herald.url, { userIds: [userId], type: 'post.liked', title: 'Dan liked your post' }).expect(201)
    ).body.notifications[0];
    const socket = io(stack.herald.url, { auth: { token: token(userId) }, transports: ['websocket'], forceNew: true }) as FeedSocket;
    const client = new FeedClient(socket);
    const deleted: string[][] = [];
    socket.on('notification:deleted', (ids) => deleted.push(ids));
    try {
      await waitFor(() => expect(client.state.items).toHaveLength(1));
      const actors = ['Alice', 'Bob', 'Carol', 'Alice', 'Eve'];
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers as sent over HTTP
      const items: any[] = [];
      for (const actor of actors) items.push((await comment(userId, actor)).body.notifications[0]);

      const last = items[items.length - 1];
      expect(last.title).toBe('Eve and 3 others commented on your post');
      expect(last.group).toEqual({
        id: items[0].id,
        key: 'post:1:comments',
        count: 5,
        actorCount: 4,
        actors: [
          { id: 'eve', name: 'Eve' },
          { id: 'alice', name: 'Alice' },
          { id: 'carol', name: 'Carol' },
        ],
      });
      expect(items[1].title).toBe('Bob and 1 other commented on your post');
      expect(items[0].title).toBe('Alice commented on your post');

      // Stored: the like and the group's newest item; each older item is a known gap naming its successor.
      const visible = await storedNotifications(stack.inspector, userId);
      expect(visible.map((doc) => doc._id.toHexString())).toEqual([other.id, last.id]);
      const all = await everything(userId);
      expect(all).toHaveLength(6);
      for (let i = 0; i < 4; i++) {
        const gap = all.find((doc) => doc._id.toHexString() === items[i].id);
        expect(gap).toMatchObject({ gap: true, supersededBy: items[i + 1].id, groupKey: 'post:1:comments' });
      }
      const counts = (await asUser(stack.herald.url, token(userId)).get('/api/notifications/counts').expect(200)).body;
      expect(counts).toMatchObject({ unread: 2, unseen: 2 });

      // The live client holds one item per group, and its counts agree with the server's.
      await waitFor(() => expect(client.state.items.map((n) => n.id)).toEqual([last.id, other.id]));
      await waitFor(() =>
        expect({ unread: client.state.unread, unseen: client.state.unseen }).toEqual({ unread: counts.unread, unseen: counts.unseen }),
      );
      await waitFor(() =>
        expect(deleted.flat().sort()).toEqual(
          items
            .slice(0, 4)
            .map((n) => n.id)
            .sort(),
        ),
      );

      // Exact catch-up from zero: every notification once; the group as its newest item only.
      const fresh = await connect(stack.herald.url, token(userId));
      const sync = await fresh.emitWithAck('notifications:sync', { afterSeq: 0 });
      expect(sync.data?.notifications.map((n) => n.id)).toEqual([other.id, last.id]);
      expect(sync.data?.settledSeq).toBe(last.seq);
      const page = (await asUser(stack.herald.url, token(userId)).get('/api/notifications').expect(200)).body;
      expect(page.items.map((n: { id: string }) => n.id)).toEqual([last.id, other.id]);

      // Read, then one more comment: the group comes back unread, as one item.
      await asUser(stack.herald.url, token(userId)).post(`/api/notifications/${last.id}/read`).expect(200);
      const again = (await comment(userId, 'Frank')).body.notifications[0];
      expect(again.group).toMatchObject({ id: items[0].id, count: 6, actorCount: 5 });
      expect(again.readAt).toBeUndefined();
      await waitFor(() => expect(client.state.items.map((n) => n.id)).toEqual([again.id, other.id]));
      const after = (await asUser(stack.herald.url, token(userId)).get('/api/notifications/counts').expect(200)).body;
      expect(after).toMatchObject({ unread: 2, unseen: 2 });
      await waitFor(() =>
        expect({ unread: client.state.unread, unseen: client.state.unseen }).toEqual({ unread: after.unread, unseen: after.unseen }),
      );
    } finally {
      client.close();
    }
  });

  it('starts a new group after the window; the old item stays as it was', async () => {
    const userId = 'group-window';
    const first = (await comment(userId, 'Alice', { group: { key: 'k', windowSeconds: 1 } })).body.notifications[0];
    const second = (await comment(userId, 'Bob', { group: { key: 'k', windowSeconds: 1 } })).body.notifications[0];
    expect(second.group).toMatchObject({ id: first.id, count: 2 });
    await sleep(1100);
    const third = (await comment(userId, 'Carol', { group: { key: 'k', windowSeconds: 1 } })).body.notifications[0];
    expect(third.group).toMatchObject({ id: third.id, count: 1, actorCount: 1 });
    const fourth = (await comment(userId, 'Dan', { group: { key: 'k', windowSeconds: 1 } })).body.notifications[0];
    expect(fourth.group).toMatchObject({ id: third.id, count: 2 });
    const visible = await storedNotifications(stack.inspector, userId);
    expect(visible.map((doc) => doc._id.toHexString())).toEqual([second.id, fourth.id]);
    // The closed group's item is no longer its key's newest: only the open group's is.
    expect(visible.map((doc) => doc.groupHead ?? null)).toEqual([null, JSON.stringify([userId, 'k'])]);
    // Other keys and other users are separate groups.
    const elsewhere = (await comment(userId, 'Eve', { group: { key: 'other' } })).body.notifications[0];
    expect(elsewhere.group).toMatchObject({ id: elsewhere.id, count: 1 });
    const stranger = (await comment('group-stranger', 'Eve', { group: { key: 'k', windowSeconds: 1 } })).body.notifications[0];
    expect(stranger.group).toMatchObject({ id: stranger.id, count: 1 });
  });

  it('publishes racing on two instances make one group with every notification counted once', async () => {
    const userId = 'group-race';
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        comment(userId, `Actor${i}`, {}, stack.instances[i % 2]!.url).then(
          (res) => res.body.notifications[0] as { seq: number; group: { id: string; count: number } },
        ),
      ),
    );
    const visible = await storedNotifications(stack.inspector, userId);
    expect(visible).toHaveLength(1);
    expect(visible[0]!.group).toMatchObject({ count: 24, actorCount: 24 });
    // Each answer took its own place in the chain: counts 1 to 24, each once.
    expect(answers.map((n) => n.group.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(new Set(answers.map((n) => n.group.id)).size).toBe(1);
    const all = await everything(userId);
    expect(all.filter((doc) => doc.gap)).toHaveLength(all.length - 1);
    expect(all.filter((doc) => doc.supersededBy)).toHaveLength(23);
  });

  it('a replaced item keeps its slot: a publisher that read it as the newest cannot store after it any more', async () => {
    const userId = 'group-stale';
    const items = [];
    for (const actor of ['Alice', 'Bob', 'Carol']) items.push((await comment(userId, actor)).body.notifications[0]);
    const slot = (n: number) => JSON.stringify([userId, 'post:1:comments', n]);
    const all = await everything(userId);
    expect(all.map((doc) => doc.groupSlot)).toEqual([slot(1), slot(2), slot(3)]);
    // What a publisher that read item 1 as the newest (before item 2 was stored) would insert, now that
    // item 3 has replaced item 2: refused, so it reads the group again instead of counting 2 once more.
    const stale = { ...all[2], _id: new Types.ObjectId(), seq: 4, groupSlot: slot(2) };
    await expect(stack.inspector.collection('notifications').insertOne(stale)).rejects.toMatchObject({ code: 11000 });
    expect((await storedNotifications(stack.inspector, userId)).map((doc) => doc.group?.count)).toEqual([3]);
  });

  it('after the newest item of a group is deleted, the next one starts a new group in the next slot', async () => {
    const userId = 'group-deleted';
    await comment(userId, 'Alice');
    const second = (await comment(userId, 'Bob')).body.notifications[0];
    expect(second.group).toMatchObject({ count: 2 });
    await asUser(stack.herald.url, token(userId)).delete(`/api/notifications/${second.id}`).expect(200);
    const third = (await comment(userId, 'Carol')).body.notifications[0];
    expect(third.group).toMatchObject({ id: third.id, count: 1, actorCount: 1 });
    expect(third.title).toBe('Carol commented on your post');
    const fourth = (await comment(userId, 'Dan')).body.notifications[0];
    expect(fourth.group).toMatchObject({ id: third.id, count: 2, actorCount: 2 });
    const visible = await storedNotifications(stack.inspector, userId);
    expect(visible.map((doc) => doc._id.toHexString())).toEqual([fourth.id]);
    const all = await everything(userId);
    expect(all.map((doc) => doc.groupSlot)).toEqual([1, 2, 3, 4].map((n) => JSON.stringify([userId, 'post:1:comments', n])));
    // Only the open group's item is its key's newest.
    expect(all.filter((doc) => doc.groupHead).map((doc) => doc._id.toHexString())).toEqual([fourth.id]);
  });

  it('a keyed retry does not count twice, even after the group moved on', async () => {
    const userId = 'group-keyed';
    const keyed = () =>
      postNotification(stack.herald.url, {
        userIds: [userId],
        type: 'comment.created',
        title: 'Alice commented',
        actor: { id: 'alice', name: 'Alice' },
        group: { key: 'g' },
      })
        .set('Idempotency-Key', 'group-keyed-1')
        .expect(201);
    const first = await keyed();
    const bob = (await comment(userId, 'Bob', { group: { key: 'g' } })).body.notifications[0];
    // The same request again (a retry after a lost answer, say): its insert collides on its key with its
    // first copy, now a known gap replaced by Bob's item. It answers with that item and stores nothing.
    const retry = await keyed();
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body.notifications.map((n: { id: string }) => n.id)).toEqual([bob.id]);
    expect(first.body.notifications[0].group.count).toBe(1);
    const visible = await storedNotifications(stack.inspector, userId);
    expect(visible).toHaveLength(1);
    expect(visible[0]!.group).toMatchObject({ count: 2 });
  });

  it('refuses a bad group with a clear error', async () => {
    const refused = async (group: unknown, expected: string) => {
      const res = await postNotification(stack.herald.url, { userIds: ['u'], type: 'a.b', title: 't', group }).expect(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(JSON.stringify(res.body.error)).toContain(expected);
    };
    await refused({ key: 'has space' }, 'printable ASCII');
    await refused({ key: 'k', windowSeconds: 0 }, 'group.windowSeconds');
    await refused({ key: 'k', windowSeconds: 8 * 24 * 3600 }, 'group.windowSeconds');
    await refused({ key: 'k', title: { one: '{actor} and {who}', other: '{others}' } }, 'placeholders');
    await refused({ key: 'k', extra: 1 }, 'extra');
  });
});
