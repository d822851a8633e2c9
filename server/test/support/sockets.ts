import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, Notification, ServerToClientEvents } from '@herald/shared';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const openSockets = new Set<ClientSocket>();

/** Connects a real socket.io-client (websocket only, no reconnection) and waits for `connect`. */
export function connect(
  baseUrl: string,
  token: string | undefined,
  options: { extraHeaders?: Record<string, string>; auth?: Record<string, unknown>; query?: Record<string, string>; path?: string } = {},
): Promise<ClientSocket> {
  const socket: ClientSocket = io(baseUrl, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 5000,
    auth: { ...options.auth, ...(token === undefined ? {} : { token }) },
    ...(options.query ? { query: options.query } : {}),
    ...(options.path ? { path: options.path } : {}),
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
