import { SYNC_PAGE_BYTES } from '@herald/shared';
import { startWatchedHerald } from './support/herald';
import { asUser, postNotification } from './support/http';
import { storedNotifications } from './support/database';
import { connect, recordNotifications } from './support/sockets';
import { sleep, waitFor } from './support/wait';
import { useTestStack } from './support/stack';

/**
 * Abuse that costs the database or the feed rather than the network: a like/unlike flood, racing
 * publishes of the same event, a sync that would carry megabytes, and read-all on a big feed.
 */
describe('floods and database cost', () => {
  const stack = useTestStack({ users: ['alice', 'bob'] });
  const { users } = stack;

  it('liking, unliking and liking again in a loop leaves the author one notification', async () => {
    const bob = users.bob;
    const socket = await connect(stack.herald.url, bob.token);
    const got = recordNotifications(socket);
    const post = (await asUser(stack.herald.url, bob.token).post('/api/posts', { text: 'Like me' }).expect(201)).body.post;
    for (let i = 0; i < 30; i++) await asUser(stack.herald.url, users.alice.token).post(`/api/posts/${post.id}/like`).expect(200);
    await waitFor(() => expect(got.map((n) => n.type)).toEqual(['post.liked']));
    await sleep(300);
    expect(got).toHaveLength(1);
    const liked = (await storedNotifications(stack.inspector, bob.user.id)).filter((d) => d.type === 'post.liked');
    expect(liked).toHaveLength(1);
  });

  it('a dedupeKey stores one notification per recipient, however many publishes race', async () => {
    const socket = await connect(stack.herald.url, stack.herald.gateway.tokens.sign({ userId: 'dedupe-a', name: 'A' }).token);
    const got = recordNotifications(socket);
    const body = { userIds: ['dedupe-a', 'dedupe-b'], type: 'post.liked', title: 'Someone liked your post', dedupeKey: 'post.liked:p1:x' };
    const answers = await Promise.all(Array.from({ length: 20 }, () => postNotification(stack.herald.url, body).expect(201)));

    // Each recipient got exactly one; every other answer names them as deduplicated.
    const storedFor = (userId: string) => answers.filter((a) => a.body.notifications.some((n: { userId: string }) => n.userId === userId));
    expect(storedFor('dedupe-a')).toHaveLength(1);
    expect(storedFor('dedupe-b')).toHaveLength(1);
    const deduplicated = answers.flatMap((a) => (a.body.deduplicatedUserIds ?? []) as string[]);
    expect(deduplicated.filter((id) => id === 'dedupe-a')).toHaveLength(19);
    for (const userId of ['dedupe-a', 'dedupe-b']) expect(await storedNotifications(stack.inspector, userId)).toHaveLength(1);
    await waitFor(() => expect(got).toHaveLength(1));

    // The seqs the duplicates were given hold nothing, and the database says so at once (known gaps):
    // a sync settles past them instead of waiting.
    const synced = await socket.emitWithAck('notifications:sync', { afterSeq: 0 });
    expect(synced.data?.notifications).toHaveLength(1);
    expect(synced.data?.settledSeq).toBe(Number(await stack.redisClient.get(stack.names.seqKey('dedupe-a'))));

    // Another key, or the same key for someone else, is a new notification.
    const other = await postNotification(stack.herald.url, { ...body, userIds: ['dedupe-a', 'dedupe-c'], dedupeKey: 'post.liked:p2:x' });
    expect(other.body.notifications).toHaveLength(2);
    const again = await postNotification(stack.herald.url, { ...body, userIds: ['dedupe-a', 'dedupe-c'] }).expect(201);
    expect(again.body).toMatchObject({ deduplicatedUserIds: ['dedupe-a'] });
    expect(again.body.notifications.map((n: { userId: string }) => n.userId)).toEqual(['dedupe-c']);

    // Deleting it frees the key: the next like notifies again.
    const [first] = await storedNotifications(stack.inspector, 'dedupe-a');
    const userA = stack.herald.gateway.tokens.sign({ userId: 'dedupe-a', name: 'A' }).token;
    await asUser(stack.herald.url, userA).delete(`/api/notifications/${first!._id.toHexString()}`).expect(200);
    expect((await postNotification(stack.herald.url, body).expect(201)).body.notifications).toHaveLength(1);
  });

  it('a keyed retry replays who was deduplicated', async () => {
    const body = { userIds: ['dedupe-k1', 'dedupe-k2'], type: 'a.b', title: 'once', dedupeKey: 'once' };
    await postNotification(stack.herald.url, { ...body, userIds: ['dedupe-k1'] }).expect(201);
    const keyed = (key: string) => postNotification(stack.herald.url, body).set('Idempotency-Key', key).expect(201);
    const first = await keyed('dedupe-retry');
    const replay = await keyed('dedupe-retry');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    for (const answer of [first, replay]) {
      expect(answer.body.deduplicatedUserIds).toEqual(['dedupe-k1']);
      expect(answer.body.notifications.map((n: { userId: string }) => n.userId)).toEqual(['dedupe-k2']);
    }
  });

  it('refuses a dedupeKey that is not a short printable token', async () => {
    for (const dedupeKey of ['', 'has space', 'x'.repeat(201), 'tab\tinside', 7]) {
      const res = await postNotification(stack.herald.url, { userIds: ['u'], type: 'a.b', title: 't', dedupeKey }).expect(400);
      expect(res.body.error).toMatchObject({ code: 'validation_failed' });
      expect(JSON.stringify(res.body.error)).toContain('dedupeKey');
    }
  });

  it('a sync page stops at SYNC_PAGE_BYTES, and the pages still bring everything once', async () => {
    const userId = 'big-pages';
    const big = { body: 'b'.repeat(2000), data: { blob: 'd'.repeat(4000) } };
    for (let i = 0; i < 100; i++)
      await stack.herald.gateway.publishNotification({ userIds: [userId], type: 'a.b', title: `big ${i}`, ...big });
    const socket = await connect(stack.herald.url, stack.herald.gateway.tokens.sign({ userId, name: 'Big' }).token);
    const seen: string[] = [];
    let afterSeq = 0;
    for (let page = 0; page < 20; page++) {
      const answer = await socket.emitWithAck('notifications:sync', { afterSeq });
      const { notifications, hasMore, settledSeq } = answer.data!;
      expect(Buffer.byteLength(JSON.stringify(notifications))).toBeLessThanOrEqual(SYNC_PAGE_BYTES + 1000);
      expect(settledSeq).toBe(notifications.at(-1)?.seq ?? afterSeq);
      seen.push(...notifications.map((n) => n.title));
      afterSeq = settledSeq!;
      if (!hasMore) break;
    }
    // About 6 KB each: a page carries about 40, not all 100.
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => `big ${i}`));
  });

  it('read-all and mark-read are one write each, scoped to the user and to what changes', async () => {
    const userId = 'read-cost';
    for (let i = 0; i < 3; i++) await stack.herald.gateway.publishNotification({ userIds: [userId], type: 'a.b', title: `r${i}` });
    const updates: Record<string, unknown>[] = [];
    const herald = await startWatchedHerald(stack, (event) => {
      if (event.commandName === 'update' && event.command.update === 'notifications') updates.push(event.command);
    });
    try {
      const token = herald.gateway.tokens.sign({ userId, name: 'R' }).token;
      const [one] = await storedNotifications(stack.inspector, userId);
      await asUser(herald.url, token).post(`/api/notifications/${one!._id.toHexString()}/read`).expect(200);
      await asUser(herald.url, token).post('/api/notifications/read-all').expect(200);
      expect(updates).toHaveLength(2);
      for (const command of updates) {
        const statements = command.updates as { q: Record<string, unknown> }[];
        // Unread and unseen get both dates, unread but seen keep their seenAt.
        expect(statements).toHaveLength(2);
        for (const { q } of statements) expect(q).toMatchObject({ userId, readAt: null });
      }
      const stored = await storedNotifications(stack.inspector, userId);
      expect(stored.every((d) => d.readAt instanceof Date && d.seenAt instanceof Date)).toBe(true);
    } finally {
      await herald.close();
    }
  });

  it('a keyed publish costs the database one insert, like a plain one; its replay an insert, a read and a gap', async () => {
    const commands: string[] = [];
    const herald = await startWatchedHerald(stack, (event) => {
      const collection = event.command[event.commandName];
      if (typeof collection === 'string') commands.push(`${event.commandName} ${collection}`);
    });
    try {
      const input = { userIds: ['cost-keyed'], type: 'a.b', title: 'keyed' };
      // A first publish for the user reads its mute settings; the ones counted below find them kept.
      await herald.gateway.publishNotification({ ...input, title: 'warm-up' });
      commands.length = 0;
      await herald.gateway.publishNotification(input);
      const plain = commands.splice(0);
      await herald.gateway.publishNotification(input, { idempotencyKey: 'cost-1' });
      const keyed = commands.splice(0);
      const replay = await herald.gateway.publishNotification(input, { idempotencyKey: 'cost-1' });
      expect(replay.replayed).toBe(true);
      expect(plain).toEqual(['insert notifications']);
      expect(keyed).toEqual(plain);
      // The insert collides on the key, the holder is read, the seq the replay took becomes a known gap.
      expect(commands.sort()).toEqual(['find notifications', 'insert notifications', 'insert notifications']);
    } finally {
      await herald.close();
    }
  });
});
