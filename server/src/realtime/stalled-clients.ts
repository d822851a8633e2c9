import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import type { IoServer } from './io-types';

/**
 * A client that stops reading makes the server buffer everything sent to it.
 * Past a bound the connection is dropped; the client catches up with a sync
 * when it comes back. Checked once a second; returns the stop function.
 */
export function watchStalledClients(deps: {
  io: IoServer;
  metrics: Pick<Metrics, 'stalledDropped'>;
  logger: Logger;
  /** @default 1000000 */
  maxBufferedBytes?: number;
}): () => void {
  const maxBuffered = deps.maxBufferedBytes ?? 1_000_000;
  const timer = setInterval(() => {
    for (const socket of deps.io.of('/').sockets.values()) {
      // engine.io keeps these private; read them defensively (a missing field reads as zero).
      const conn = socket.conn as unknown as {
        writeBuffer?: unknown[];
        transport?: { socket?: { bufferedAmount?: number; terminate?: () => void } };
      };
      const buffered = conn.transport?.socket?.bufferedAmount ?? 0;
      const queued = conn.writeBuffer?.length ?? 0;
      if (buffered > maxBuffered || queued > 1000) {
        deps.logger.warn({ userId: socket.data.userId, buffered, queued }, 'client stopped reading; dropping its connection');
        deps.metrics.stalledDropped.inc();
        // close() would wait for the buffer to drain, which a stalled client never lets happen:
        // discard it, and cut the TCP connection instead of waiting for a closing handshake.
        conn.transport?.socket?.terminate?.();
        socket.conn.close(true);
      }
    }
  }, 1000);
  timer.unref();
  return () => clearInterval(timer);
}
