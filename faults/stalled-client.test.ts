import type { Socket as NetSocket } from 'node:net';
import request from 'supertest';
import { WebSocket } from 'ws';
import { login } from '../server/test/support/http';
import { waitFor } from '../server/test/support/wait';
import { connect, recordNotifications } from '../server/test/support/sockets';
import { TEST_SERVICE_TOKEN } from '../server/test/support/herald';
import { useTestStack } from '../server/test/support/stack';

/** A Socket.IO client speaking the wire protocol by hand, so it can stop reading like a frozen tab. */
async function rawClient(baseUrl: string, token: string): Promise<{ ws: WebSocket; tcp: NetSocket; closed: Promise<void> }> {
  const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('0')) ws.send(`40${JSON.stringify({ token })}`);
      if (text.startsWith('40')) resolve();
      if (text.startsWith('44')) reject(new Error(text));
    });
    ws.once('error', reject);
  });
  return { ws, tcp: (ws as unknown as { _socket: NetSocket })._socket, closed };
}

describe('a client that stops reading', () => {
  const stack = useTestStack();

  it('cannot grow server memory without bound: it is dropped, others are unaffected, and it catches up when it comes back', async () => {
    const service = (path: string) => request(stack.herald.url).post(path).set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`);
    await service('/api/topics').send({ name: 'firehose:1' }).expect(201);
    const bob = await login(stack.herald.url, 'bob');
    const alice = await login(stack.herald.url, 'alice');
    const bystander = await connect(stack.herald.url, alice.token);
    const got = recordNotifications(bystander);

    const stalled = await rawClient(stack.herald.url, bob.token);
    await stack.herald.gateway.topics.addMember('firehose:1', { id: bob.user.id });
    await waitFor(() => expect(stack.herald.gateway.topicChannels.channelCount).toBe(1));
    stalled.tcp.pause(); // the tab froze: nothing is read from here on

    const heapBefore = process.memoryUsage().heapUsed;
    const blob = 'x'.repeat(3500);
    let sent = 0;
    // Bounded: at most 20,000 messages (~70 MB) or until the server drops the stalled client.
    while (sent < 20_000 && stack.herald.gateway.io.of('/').sockets.size > 1) {
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          stack.herald.gateway.topics.publishToTopic('firehose:1', { event: 'firehose', data: { i: sent + i, blob } }),
        ),
      );
      sent += 200;
      await new Promise((r) => setImmediate(r));
    }
    expect(stack.herald.gateway.io.of('/').sockets.size).toBe(1);
    expect(sent).toBeLessThan(20_000);
    const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
    expect(grownMb).toBeLessThan(100);
    const metrics = (await request(stack.herald.url).get('/metrics')).text;
    expect(metrics).toMatch(/^herald_stalled_clients_dropped_total [1-9]/m);

    // Meanwhile, stored notifications for the stalled user and a bystander.
    const { notifications } = await stack.herald.gateway.publishNotification({
      userIds: [bob.user.id, alice.user.id],
      type: 'a.b',
      title: 'while frozen',
    });
    await waitFor(() => expect(got.map((n) => n.title)).toContain('while frozen'));

    // The tab wakes up: a new connection syncs and has what it missed.
    stalled.tcp.destroy();
    const back = await connect(stack.herald.url, bob.token);
    const sync = await back.emitWithAck('notifications:sync', { afterSeq: 0 });
    expect(sync.data?.notifications.map((n) => n.id)).toEqual([notifications[0]!.id]);
  }, 120_000);
});
