import type { IoServer, IoSocket } from './io-types';

/** engine.io's listener on the TCP socket of a WebSocket upgrade (its `WebSocketResponse`), as it prints. */
const RESPONSE_CLOSE_LISTENER = '() => this.emit("close")';

/** engine.io's no-op listener for a WebSocket's errors before its transport takes over, by name. */
const UPGRADE_ERROR_LISTENER = 'onUpgradeError';

type Listener = ((...args: unknown[]) => void) & { listener?: (...args: unknown[]) => void };
interface Emitter<E extends string> {
  rawListeners(event: E): Listener[];
  removeListener(event: E, listener: Listener): void;
}
interface EngineConnection {
  request: unknown;
  transport?: { name?: string; socket?: Emitter<'error'> & { _socket?: Emitter<'close'> } };
  once(event: 'upgrade', listener: () => void): void;
}

/**
 * Lets the upgrade request of each connected socket be collected: about 1.5 KB per socket (the
 * `IncomingMessage`, its headers and query), measured with heap snapshots of 2,000 sockets. On the way
 * it drops engine.io's pre-upgrade error listener too (see below).
 *
 * Socket.IO's memory guide drops `conn.request`, but engine.io (6.6) also keeps the request through
 * a `WebSocketResponse` whose only job is to re-emit the TCP socket's `close` for engine middlewares
 * (`io.engine.use`), and it listens for that close for the life of the connection. Herald adds no engine
 * middleware (engine.io's own CORS handling is one and ignores it), so that listener is removed once a
 * socket is connected (or, for a client that started on long-polling, once it has upgraded), unless a
 * host has added a middleware to `gateway.io.engine` since (it may wait for that close). Nothing Herald
 * runs reads the request after the handshake: the token, the address and the headers are in
 * `socket.handshake` by then.
 *
 * Call it right after creating the server; call what it returns with each connected socket. Where there
 * is nothing to remove (a host middleware is installed, or the engine.io version has no such listener),
 * it removes nothing.
 */
export function upgradeRequestRelease(io: IoServer): (socket: IoSocket) => void {
  const engine = io.engine as unknown as { middlewares?: unknown[] };
  const own = engine.middlewares?.length ?? 0;
  const release = (socket: IoSocket): void => {
    const conn = socket.conn as unknown as EngineConnection;
    conn.request = null;
    if (conn.transport?.name !== 'websocket') {
      conn.once('upgrade', () => release(socket));
      return;
    }
    const websocket = conn.transport.socket;
    // engine.io leaves its pre-upgrade error listener (which does nothing) on a client that came straight
    // over WebSocket, beside the transport's own: about 100 bytes a socket. The transport's stays.
    const onError = websocket?.rawListeners('error') ?? [];
    if (onError.length > 1)
      for (const listener of onError) if (listener.name === UPGRADE_ERROR_LISTENER) websocket!.removeListener('error', listener);
    const tcp = websocket?._socket;
    if (!tcp || (engine.middlewares?.length ?? 0) > own) return;
    for (const listener of tcp.rawListeners('close')) {
      if (listener.listener && String(listener.listener) === RESPONSE_CLOSE_LISTENER) tcp.removeListener('close', listener);
    }
  };
  return release;
}
