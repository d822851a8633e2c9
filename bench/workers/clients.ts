// A slice of the bench's simulated users: real socket.io-client connections (websocket, as browsers
// use once upgraded), optionally each driven by the real FeedClient (the browser's catch-up logic).
import { Centrifuge } from 'centrifuge';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { FeedClient, type FeedSocket } from '../../client/src/notifications/core/feed-client';
import { notify, serve } from '../lib/rpc';
import { now, Samples } from '../lib/stats';

export interface ClientSpec {
  userId: string;
  token: string;
  url: string;
}

/**
 * Which server the clients talk to: Herald (socket.io-client, a signed token), the plain Socket.IO
 * baseline (socket.io-client, naming its user), or Centrifugo (its own JavaScript SDK over `ws`, the
 * same signed token; a server-side subscription to the user's personal channel).
 */
export type System = 'herald' | 'plain' | 'centrifugo';

interface Client {
  userId: string;
  /** Set for Herald and the plain server. */
  socket?: FeedSocket;
  /** Set for Centrifugo. */
  centrifuge?: Centrifuge;
  /** Centrifugo: ids received since the last reconnect(), the storm's catch-up. */
  sinceReconnect?: string[];
  feed?: FeedClient;
  /** Ids this socket received live, to catch a notification pushed twice. */
  liveIds: Set<string>;
  /** When its feed first held the expected number of notifications after reconnect(). */
  caughtUpAt?: number;
  /** When it was connected again after reconnect(), before any catch-up. */
  reconnectedAt?: number;
}

const clients: Client[] = [];
let recording = false;
const topicLatency = new Map<number, Samples>();
const notificationLatency = new Samples();
let received = 0;
let liveDuplicates = 0;
let expectedItems = Number.POSITIVE_INFINITY;
let caughtUp = 0;
let reconnected = 0;
let reconnectStartedAt = 0;

/** Runs at most `limit` tasks at a time. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++]!);
  });
  await Promise.all(runners);
}

function onNotification(client: Client, id: string, sentAt: unknown): void {
  if (client.liveIds.has(id)) liveDuplicates++;
  client.liveIds.add(id);
  received++;
  if (recording && typeof sentAt === 'number') notificationLatency.push(now() - sentAt);
}

function onTopicMessage(data: { i?: unknown; t?: unknown } | undefined): void {
  received++;
  const { i, t } = data ?? {};
  if (!recording || typeof i !== 'number' || typeof t !== 'number') return;
  let samples = topicLatency.get(i);
  if (!samples) topicLatency.set(i, (samples = new Samples()));
  samples.push(now() - t);
}

function track(client: Client, socket: FeedSocket): void {
  socket.on('notification', (notification) => onNotification(client, notification.id, notification.data?.t));
  socket.on('topic:message', (message) => onTopicMessage(message.data));
}

/** Centrifugo: publications of the personal channel carry { id, t }; a topic's carry { i, t }. */
function trackCentrifuge(client: Client, centrifuge: Centrifuge): void {
  centrifuge.on('publication', (ctx) => {
    const data = ctx.data as { id: string; t?: number };
    onNotification(client, data.id, data.t);
    if (client.sinceReconnect) {
      client.sinceReconnect.push(data.id);
      if (client.caughtUpAt === undefined && client.sinceReconnect.length >= expectedItems) {
        client.caughtUpAt = now();
        caughtUp++;
      }
    }
  });
}

/** Resolves when the Centrifugo client is connected, false on an error before that or after 30 s. */
function centrifugeConnected(centrifuge: Centrifuge, errors: Set<string>): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      errors.add('timed out');
      resolve(false);
    }, 30_000);
    centrifuge.once('connected', () => {
      clearTimeout(timer);
      resolve(true);
    });
    centrifuge.once('disconnected', (ctx) => {
      clearTimeout(timer);
      errors.add(ctx.reason);
      resolve(false);
    });
  });
}

function checkCaughtUp(client: Client): void {
  if (client.caughtUpAt !== undefined || !client.feed) return;
  if (client.feed.state.items.length >= expectedItems) {
    client.caughtUpAt = now();
    caughtUp++;
  }
}

function openSocket(spec: ClientSpec, reconnection: boolean, system: System): FeedSocket {
  return io(spec.url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection,
    // As the browser client does: a failed (re)connect is retried with backoff.
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    timeout: 30_000,
    auth: system === 'plain' ? { userId: spec.userId } : { token: spec.token },
  });
}

const api = {
  /** Opens one socket per spec, `concurrency` handshakes at a time; with `feed`, each gets a FeedClient. */
  async connect(params: { clients: ClientSpec[]; concurrency: number; feed?: boolean; reconnection?: boolean; system?: System }) {
    let connected = 0;
    let failed = 0;
    const errors = new Set<string>();
    const started = now();
    const system = params.system ?? 'herald';
    await pool(params.clients, params.concurrency, async (spec) => {
      if (system === 'centrifugo') {
        const centrifuge = new Centrifuge(spec.url, {
          websocket: WebSocket,
          token: spec.token,
          minReconnectDelay: 500,
          maxReconnectDelay: 5000,
          timeout: 30_000,
        });
        const client: Client = { userId: spec.userId, centrifuge, liveIds: new Set() };
        trackCentrifuge(client, centrifuge);
        const ok = centrifugeConnected(centrifuge, errors);
        centrifuge.connect();
        if (!(await ok)) {
          failed++;
          centrifuge.disconnect();
          return;
        }
        clients.push(client);
        if (++connected % 100 === 0) notify('connected', 100);
        return;
      }
      const socket = openSocket(spec, params.reconnection ?? false, system);
      const client: Client = { userId: spec.userId, socket, liveIds: new Set() };
      track(client, socket);
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
    await pool(clients, params.concurrency, async ({ socket, centrifuge }) => {
      if (centrifuge) {
        // Centrifugo: a client-side subscription to a namespace that allows it.
        const subscription = centrifuge.newSubscription(`topic:${params.topic}`);
        subscription.on('publication', (ctx) => onTopicMessage(ctx.data as { i?: unknown; t?: unknown }));
        subscription.subscribe();
        await subscription.ready(60_000).then(
          () => ok++,
          (error: Error) => errors.add(error.message),
        );
        if (++answered % 100 === 0) notify('subscribed', 100);
        return;
      }
      const answer = await socket!
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

  received: () => ({
    received,
    caughtUp,
    reconnected,
    sockets: clients.filter((c) => (c.socket ? c.socket.connected : c.centrifuge?.state === 'connected')).length,
  }),

  /** Every socket drops its connection at once (the client side closes). */
  drop() {
    for (const client of clients) {
      client.socket?.disconnect();
      client.centrifuge?.disconnect();
    }
    return clients.length;
  },

  /**
   * Every socket reconnects at once; a feed counts as caught up once it holds `expectedItems`, and
   * every client as reconnected once it is connected again (before any catch-up).
   */
  reconnect(params: { expectedItems: number }) {
    expectedItems = params.expectedItems;
    caughtUp = 0;
    reconnected = 0;
    reconnectStartedAt = now();
    for (const client of clients) {
      client.caughtUpAt = undefined;
      client.reconnectedAt = undefined;
      const onConnected = () => {
        client.reconnectedAt = now();
        reconnected++;
      };
      if (client.centrifuge) client.sinceReconnect = [];
      client.socket?.once('connect', onConnected);
      client.centrifuge?.once('connected', onConnected);
      client.socket?.connect();
      client.centrifuge?.connect();
    }
    return reconnectStartedAt;
  },

  /**
   * Per user: the notification ids its feed holds (clients without a feed have none), how long each
   * took to catch up after reconnect(), and how long each took to be connected again.
   */
  feeds() {
    const items: Record<string, string[]> = {};
    const caughtUpMs = new Samples();
    const reconnectedMs = new Samples();
    for (const client of clients) {
      if (client.reconnectedAt !== undefined) reconnectedMs.push(client.reconnectedAt - reconnectStartedAt);
      const held = client.feed?.state.items.map((n) => n.id) ?? client.sinceReconnect;
      if (!held) continue;
      items[client.userId] = held;
      if (client.caughtUpAt !== undefined) caughtUpMs.push(client.caughtUpAt - reconnectStartedAt);
    }
    return { items, caughtUpMs: caughtUpMs.take(), reconnectedMs: reconnectedMs.take(), liveDuplicates };
  },

  cpu: () => process.cpuUsage(),

  closeAll() {
    for (const client of clients) {
      client.socket?.close();
      client.centrifuge?.disconnect();
    }
    clients.length = 0;
  },
};

export type ClientsApi = typeof api;

serve(api);
