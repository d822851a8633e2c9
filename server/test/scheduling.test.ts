import type { Notification, NotificationCounts } from '@herald/shared';
import { jobIdempotencyKey } from '../src/notifications/scheduled-jobs';
import { storedNotifications } from './support/database';
import { TEST_SERVICE_TOKEN, startTestHerald } from './support/herald';
import { asUser, postNotification } from './support/http';
import { connect, recordNotifications } from './support/sockets';
import { sleep, waitFor } from './support/wait';
import { useTestStack } from './support/stack';

describe('scheduling, expiry and snooze', () => {
  const stack = useTestStack({ instances: 2 });
  const token = (userId: string) => stack.herald.gateway.tokens.sign({ userId, name: userId }).token;
  const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
  const jobs = () => stack.inspector.collection('notification_jobs');
  const counts = async (userId: string): Promise<NotificationCounts> =>
    (await asUser(stack.herald.url, token(userId)).get('/api/notifications/counts').expect(200)).body;

  it('sendAt: stored and sent once at that time, by one of the instances', async () => {
    const userId = 'sched-send';
    const socket = await connect(stack.herald.url, token(userId));
    const live = recordNotifications(socket);
    const sendAt = inMs(1500);
    const res = await postNotification(stack.herald.url, {
      userIds: [userId],
      type: 'reminder.due',
      title: 'Stand-up in 5 minutes',
      sendAt,
    }).expect(202);
    expect(res.body.scheduled).toEqual({ id: expect.stringMatching(/^send:/), sendAt: new Date(sendAt).toISOString() });
    expect(await storedNotifications(stack.inspector, userId)).toHaveLength(0);
    await waitFor(() => expect(live).toHaveLength(1), 8000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(sendAt));
    await sleep(2500); // both instances have looked again since
    expect(live).toHaveLength(1);
    expect((await storedNotifications(stack.inspector, userId)).map((doc) => doc.title)).toEqual(['Stand-up in 5 minutes']);
    expect(await jobs().countDocuments({ _id: res.body.scheduled.id })).toBe(0);
  });

  it('a send whose runner died after publishing is taken over and still stored once', async () => {
    const userId = 'sched-takeover';
    const res = await postNotification(stack.herald.url, {
      userIds: [userId],
      type: 'reminder.due',
      title: 'Once',
      sendAt: inMs(60_000),
    }).expect(202);
    const id: string = res.body.scheduled.id;
    const job = await jobs().findOne({ _id: id as never });
    // The runner that died: it claimed the job two minutes ago and published, then stopped.
    await stack.herald.gateway.publishNotification(job!.input, { idempotencyKey: jobIdempotencyKey(id) });
    await jobs().updateOne(
      { _id: id as never },
      {
        $set: {
          state: 'running',
          claimedAt: new Date(Date.now() - 120_000),
          dueAt: new Date(),
          dueHour: new Date().toISOString().slice(0, 13),
        },
      },
    );
    await waitFor(async () => expect(await jobs().countDocuments({ _id: id as never })).toBe(0), 8000);
    expect((await storedNotifications(stack.inspector, userId)).map((doc) => doc.title)).toEqual(['Once']);
  });

  it('a send more than a week overdue (no instance ran meanwhile) is still sent, once', async () => {
    const userId = 'sched-overdue';
    const res = await postNotification(stack.herald.url, {
      userIds: [userId],
      type: 'reminder.due',
      title: 'Late',
      sendAt: inMs(60_000),
    }).expect(202);
    const dueAt = new Date(Date.now() - 8 * 24 * 3600_000);
    await jobs().updateOne({ _id: res.body.scheduled.id }, { $set: { dueAt, dueHour: dueAt.toISOString().slice(0, 13) } });
    // A runner looks for long-overdue jobs on its first pass, then every 10 minutes: a fresh instance's.
    const fresh = await startTestHerald({ mongodbUri: stack.mongodbUri, redisUrl: stack.redis.url });
    try {
      await waitFor(async () => expect(await jobs().countDocuments({ _id: res.body.scheduled.id })).toBe(0), 8000);
    } finally {
      await fresh.close();
    }
    expect((await storedNotifications(stack.inspector, userId)).map((doc) => doc.title)).toEqual(['Late']);
  });

  it('at most 100 scheduled sends wait for one recipient; a keyed replay of one of them still answers', async () => {
    const userId = 'sched-cap';
    const sendAt = inMs(600_000);
    const send = (n: number, key?: string) => {
      const req = postNotification(stack.herald.url, {
        userIds: [userId, `sched-cap-other-${n}`],
        type: 'a.b',
        title: `#${n}`,
        sendAt,
      });
      return key ? req.set('Idempotency-Key', key) : req;
    };
    await send(0, 'cap-key-0').expect(202);
    for (let n = 1; n < 100; n++) await send(n).expect(202);
    const refused = await send(100).expect(409);
    expect(refused.body.error).toMatchObject({ code: 'conflict', details: { userIds: [userId], maxScheduledPerRecipient: 100 } });
    // The same keyed request again is a replay of the job that is there, not a new send.
    expect((await send(0, 'cap-key-0').expect(202)).headers['idempotent-replayed']).toBe('true');
    // Another recipient alone is not at the cap.
    await postNotification(stack.herald.url, { userIds: ['sched-cap-other-0'], type: 'a.b', title: 'ok', sendAt: inMs(600_000) }).expect(
      202,
    );
    expect(await jobs().countDocuments({ recipients: userId })).toBe(100);
  });

  it('a scheduled send can be cancelled; keyed, the same request is one job and another is a conflict', async () => {
    const userId = 'sched-cancel';
    const body = { userIds: [userId], type: 'reminder.due', title: 'Cancelled', sendAt: inMs(1200) };
    const first = await postNotification(stack.herald.url, body).set('Idempotency-Key', 'sched-1').expect(202);
    const again = await postNotification(stack.herald.url, body).set('Idempotency-Key', 'sched-1').expect(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.scheduled).toEqual(first.body.scheduled);
    await postNotification(stack.herald.url, { ...body, title: 'Other' })
      .set('Idempotency-Key', 'sched-1')
      .expect(409);
    const service = (path: string) =>
      asUser(stack.herald.url, TEST_SERVICE_TOKEN).delete(`/api/notifications/scheduled/${encodeURIComponent(path)}`);
    expect((await service(first.body.scheduled.id).expect(200)).body).toEqual({ cancelled: first.body.scheduled.id });
    expect((await service(first.body.scheduled.id).expect(404)).body.error.code).toBe('not_found');
    expect((await service('nope').expect(400)).body.error.code).toBe('validation_failed');
    // Only backends cancel.
    await asUser(stack.herald.url, token(userId)).delete(`/api/notifications/scheduled/${first.body.scheduled.id}`).expect(401);
    await sleep(2500);
    expect(await storedNotifications(stack.inspector, userId)).toHaveLength(0);
  });

  it('expiresAt: gone from the feed, the counts and every device after it', async () => {
    const userId = 'sched-expire';
    await postNotification(stack.herald.url, { userIds: [userId], type: 'a.b', title: 'stays' }).expect(201);
    const socket = await connect(stack.herald.url, token(userId));
    const deleted: { ids: string[] }[] = [];
    socket.on('notification:deleted', (ids) => deleted.push({ ids }));
    const counted: NotificationCounts[] = [];
    socket.on('counts', (c) => counted.push(c));
    const expiresAt = inMs(1500);
    const stored: Notification = (
      await postNotification(stack.herald.url, {
        userIds: [userId],
        type: 'offer.flash',
        title: 'Flash sale: 10 minutes',
        expiresAt,
      }).expect(201)
    ).body.notifications[0];
    expect(stored.expiresAt).toBe(new Date(expiresAt).toISOString());
    expect(await counts(userId)).toMatchObject({ unread: 2, unseen: 2 });
    await waitFor(() => expect(deleted).toEqual([{ ids: [stored.id] }]), 8000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    expect(await counts(userId)).toMatchObject({ unread: 1, unseen: 1 });
    expect((await storedNotifications(stack.inspector, userId)).map((doc) => doc.title)).toEqual(['stays']);
    const sync = await socket.emitWithAck('notifications:sync', { afterSeq: 0 });
    expect(sync.data?.notifications.map((n) => n.title)).toEqual(['stays']);
  });

  it('refuses times that are past, too far, or out of order', async () => {
    const refused = async (body: Record<string, unknown>, path: string) => {
      const res = await postNotification(stack.herald.url, { userIds: ['u'], type: 'a.b', title: 't', ...body }).expect(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(JSON.stringify(res.body.error)).toContain(path);
    };
    await refused({ expiresAt: inMs(-1000) }, 'expiresAt');
    await refused({ sendAt: inMs(400 * 24 * 3600 * 1000) }, 'sendAt');
    await refused({ sendAt: inMs(60_000), expiresAt: inMs(30_000) }, 'expiresAt');
    await refused({ sendAt: 'tomorrow' }, 'sendAt');
  });

  it('snooze: hidden on every device, then back unread as a new item at the top, once', async () => {
    const userId = 'sched-snooze';
    const first = (
      await postNotification(stack.herald.url, {
        userIds: [userId],
        type: 'task.assigned',
        title: 'Review the draft',
        data: { task: 7 },
      }).expect(201)
    ).body.notifications[0] as Notification;
    const later = (await postNotification(stack.herald.url, { userIds: [userId], type: 'a.b', title: 'later one' }).expect(201)).body
      .notifications[0] as Notification;
    await asUser(stack.herald.url, token(userId)).post(`/api/notifications/${first.id}/read`).expect(200);
    const laptop = await connect(stack.herald.url, token(userId));
    const phone = await connect(stack.instances[1]!.url, token(userId));
    const phoneDeleted: string[][] = [];
    phone.on('notification:deleted', (ids) => phoneDeleted.push(ids));
    const phoneLive = recordNotifications(phone);

    const until = inMs(1500);
    const answer = await laptop.emitWithAck('notifications:snooze', { id: first.id, until });
    expect(answer.data).toMatchObject({ counts: { unread: 1, unseen: 1 }, until: new Date(until).toISOString() });
    await waitFor(() => expect(phoneDeleted).toEqual([[first.id]]));
    expect((await storedNotifications(stack.inspector, userId)).map((doc) => doc.title)).toEqual(['later one']);

    await waitFor(() => expect(phoneLive).toHaveLength(1), 8000);
    const back = phoneLive[0]!;
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(until));
    expect(back).toMatchObject({ title: 'Review the draft', data: { task: 7 }, type: 'task.assigned' });
    expect(back.readAt).toBeUndefined();
    expect(back.id).not.toBe(first.id);
    expect(back.seq).toBeGreaterThan(later.seq);
    await sleep(2500);
    expect(phoneLive).toHaveLength(1);
    expect((await storedNotifications(stack.inspector, userId)).map((doc) => doc.title)).toEqual(['later one', 'Review the draft']);
    expect(await counts(userId)).toMatchObject({ unread: 2, unseen: 2 });
  });

  it('refuses a snooze of another user, of nothing, or to a bad time', async () => {
    const mine = (await postNotification(stack.herald.url, { userIds: ['snooze-owner'], type: 'a.b', title: 'mine' }).expect(201)).body
      .notifications[0] as Notification;
    const stranger = asUser(stack.herald.url, token('snooze-stranger'));
    expect(
      (
        await stranger
          .post(`/api/notifications/${mine.id}/snooze`)
          .send({ until: inMs(60_000) })
          .expect(404)
      ).body.error.code,
    ).toBe('not_found');
    const owner = asUser(stack.herald.url, token('snooze-owner'));
    expect(
      (
        await owner
          .post(`/api/notifications/${mine.id}/snooze`)
          .send({ until: inMs(-5000) })
          .expect(400)
      ).body.error.code,
    ).toBe('validation_failed');
    expect((await owner.post(`/api/notifications/${mine.id}/snooze`).send({ until: 'soon' }).expect(400)).body.error.code).toBe(
      'validation_failed',
    );
    const socket = await connect(stack.herald.url, token('snooze-owner'));
    const bad = await socket.emitWithAck('notifications:snooze', { id: mine.id, until: inMs(400 * 24 * 3600 * 1000) });
    expect(bad.error?.code).toBe('validation_failed');
    expect(await storedNotifications(stack.inspector, 'snooze-owner')).toHaveLength(1);
    expect(await jobs().countDocuments({ kind: 'wake', 'targets.userId': 'snooze-owner' })).toBe(0);
  });
});
