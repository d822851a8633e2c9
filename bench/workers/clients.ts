// A slice of the bench's simulated users: real socket.io-client connections (websocket, as browsers
// use once upgraded), optionally each driven by the real FeedClient (the browser's catch-up logic).
import { io } from 'socket.io-client';
import { FeedClient, type FeedSocket } from '../../client/src/notifications/core/feed-client';
import { notify, serve } from '../lib/rpc';
import { now, Samples } from '../lib/stats';

export interface ClientSpec {
  userId: string;
  token: string;
  url: string;
}

interface Client {
  userId: string;
  socket: FeedSocket;
  feed?: FeedClient;
  /** Ids this socket received live, to catch a notification pushed twice. */
  liveIds: Set<string>;
  /** When its feed first held the expected number of notifications after reconnect(). */
  caughtUpAt?: number;
}

const clients: Client[] = [];
let recording = false;
const topicLatency = new Map<number, Samples>();
const notificationLatency = new Samples();
let received = 0;
let liveDuplicates = 0;
let expectedItems = Number.POSITIVE_INFINITY;
let caughtUp = 0;
let reconnectStartedAt = 0;

/** Runs at most `limit` tasks at a time. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++]!);
  });
  await Promise.all(runners);
}

function track(client: Client): void {
  const { socket } = client;
  socket.on('notification', (notification) => {
    if (client.liveIds.has(notification.id)) liveDuplicates++;
    client.liveIds.add(notification.id);
    received++;
    const sentAt = notification.data?.t;
    if (recording && typeof sentAt === 'number') notificationLatency.push(now() - sentAt);
  });
  socket.on('topic:message', (message) => {
    received++;
    const { i, t } = message.data;
    if (!recording || typeof i !== 'number' || typeof t !== 'number') return;
    let samples = topicLatency.get(i);
    if (!samples) topicLatency.set(i, (samples = new Samples()));
    samples.push(now() - t);
  });
}

function checkCaughtUp(client: Client): void {
  if (client.caughtUpAt !== undefined || !client.feed) return;
  if (client.feed.state.items.length >= expectedItems) {
    client.caughtUpAt = now();
    caughtUp++;
  }
}

function openSocket(spec: ClientSpec, reconnection: boolean): FeedSocket {
  return io(spec.url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection,
    // As the browser client does: a failed (re)connect is retried with backoff.
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    timeout: 30_000,
    auth: { token: spec.token },
  });
}

const api = {
  /** Opens one socket per spec, `concurrency` handshakes at a time; with `feed`, each gets a FeedClient. */
  async connect(params: { clients: ClientSpec[]; concurrency: number; feed?: boolean; reconnection?: boolean }) {
    let connected = 0;
    let failed = 0;
    const errors = new Set<string>();
    const started = now();
    await pool(params.clients, params.concurrency, async (spec) => {
      const socket = openSocket(spec, params.reconnection ?? false);
      const client: Client = { userId: spec.userId, socket, liveIds: new Set() };
      track(client);
      const ok = await new Promise<boolean>((resolve) => {
        socket.once('connect', () => resolve(true));
        socket.once('connect_error', (error) => {
          errors.add(error.message);
          resolve(false);
        });
      });
      if (!ok) {
        failed++;
        socket.close();
        return;
      }
      if (params.feed) {
        client.feed = new FeedClient(socket, { onChange: () => checkCaughtUp(client) });
      }
      clients.push(client);
      connected++;
      if (connected % 100 === 0) notify('connected', 100);
    });
    notify('connected', connected % 100);
    return { connected, failed, errors: [...errors].slice(0, 5), ms: now() - started };
  },

  /** Every socket asks to join the topic; the server's policy decides. */
  async subscribe(params: { topic: string; concurrency: number }) {
    let ok = 0;
    let answered = 0;
    const errors = new Set<string>();
    await pool(clients, params.concurrency, async ({ socket }) => {
      const answer = await socket
        .timeout(60_000)
        .emitWithAck('topic:subscribe', { topic: params.topic })
        .catch((error: Error) => ({ error: { code: error.message } }) as const);
      if ('data' in answer && answer.data) ok++;
      else if (answer.error) errors.add(answer.error.code);
      if (++answered % 100 === 0) notify('subscribed', 100);
    });
    notify('subscribed', answered % 100);
    return { ok, failed: clients.length - ok, errors: [...errors] };
  },

  /** Starts (or restarts) collecting latencies. */
  record() {
    recording = true;
    topicLatency.clear();
    notificationLatency.take();
  },

  /** The latencies collected since record(), as typed arrays; recording stops. */
  take() {
    recording = false;
    const topic: Record<number, Float64Array> = {};
    for (const [i, samples] of topicLatency) topic[i] = samples.take();
    return { topic, notifications: notificationLatency.take(), received, liveDuplicates };
  },

  received: () => ({ received, caughtUp, sockets: clients.filter((c) => c.socket.connected).length }),

  /** Every socket drops its connection at once (the client side closes). */
  drop() {
    for (const client of clients) client.socket.disconnect();
    return clients.length;
  },

  /** Every socket reconnects at once; a feed counts as caught up once it holds `expectedItems`. */
  reconnect(params: { expectedItems: number }) {
    expectedItems = params.expectedItems;
    caughtUp = 0;
    reconnectStartedAt = now();
    for (const client of clients) {
      client.caughtUpAt = undefined;
      client.socket.connect();
    }
    return reconnectStartedAt;
  },

  /** Per user: the notification ids its feed holds, and how long it took to catch up after reconnect(). */
  feeds() {
    const items: Record<string, string[]> = {};
    const caughtUpMs = new Samples();
    for (const client of clients) {
      if (!client.feed) continue;
      items[client.userId] = client.feed.state.items.map((n) => n.id);
      if (client.caughtUpAt !== undefined) caughtUpMs.push(client.caughtUpAt - reconnectStartedAt);
    }
    return { items, caughtUpMs: caughtUpMs.take(), liveDuplicates };
  },

  cpu: () => process.cpuUsage(),

  closeAll() {
    for (const client of clients) client.socket.close();
    clients.length = 0;
  },
};

export type ClientsApi = typeof api;

serve(api);
