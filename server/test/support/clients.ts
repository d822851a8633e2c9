import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import type { ClientToServerEvents, Notification, ServerToClientEvents } from '@herald/shared';
import { TEST_SERVICE_TOKEN } from './herald';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface LoggedIn {
  token: string;
  user: { id: string; name: string; username: string };
}

export async function login(baseUrl: string, username: string): Promise<LoggedIn> {
  const res = await request(baseUrl).post('/api/auth/login').send({ username }).expect(200);
  return res.body as LoggedIn;
}

/** Publishes through the HTTP API with the service token; returns the response for assertions. */
export function postNotification(baseUrl: string, body: unknown, token: string | null = TEST_SERVICE_TOKEN) {
  const req = request(baseUrl).post('/api/notifications');
  if (token !== null) void req.set('Authorization', `Bearer ${token}`);
  return req.send(body as object);
}

const openSockets = new Set<ClientSocket>();

/** Connects a real socket.io-client (websocket only, no reconnection) and waits for `connect`. */
export function connect(
  baseUrl: string,
  token: string | undefined,
  options: { extraHeaders?: Record<string, string>; auth?: Record<string, unknown>; query?: Record<string, string> } = {},
): Promise<ClientSocket> {
  const socket: ClientSocket = io(baseUrl, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 5000,
    auth: { ...options.auth, ...(token === undefined ? {} : { token }) },
    ...(options.query ? { query: options.query } : {}),
    ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}),
  });
  openSockets.add(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

/** Closes every socket opened through connect(); call in afterEach/afterAll. */
export function closeAllSockets(): void {
  for (const socket of openSockets) socket.close();
  openSockets.clear();
}

/** Collects every `notification` event a socket receives. */
export function recordNotifications(socket: ClientSocket): Notification[] {
  const received: Notification[] = [];
  socket.on('notification', (n) => received.push(n));
  return received;
}

/** Polls until the check passes (returns without throwing) or the time runs out; rethrows the last failure. */
export async function waitFor(check: () => void | Promise<void>, timeoutMs = 5000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** supertest calls carrying a user's bearer token. */
export function asUser(baseUrl: string, token: string) {
  const auth = (req: request.Test) => req.set('Authorization', `Bearer ${token}`);
  return {
    get: (path: string) => auth(request(baseUrl).get(path)),
    post: (path: string, body?: unknown) => {
      const req = auth(request(baseUrl).post(path));
      return body === undefined ? req : req.send(body as object);
    },
    put: (path: string, body: unknown) => auth(request(baseUrl).put(path)).send(body as object),
    delete: (path: string) => auth(request(baseUrl).delete(path)),
  };
}
