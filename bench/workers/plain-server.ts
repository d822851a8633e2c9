// The baseline for `npm run bench -- --compare`: a Socket.IO server with @socket.io/redis-adapter as
// a tutorial would write it. No authentication (the client names its user), no persistence, no catch-up:
// a socket joins `user-<id>` on connect and `topic-<name>` when it asks, and whatever any process emits
// to a room through Redis (@socket.io/redis-emitter) reaches it. What Herald adds costs what the two differ.
import http from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { serve } from '../lib/rpc';

async function main(): Promise<void> {
  const pub = new Redis(process.env.REDIS_URL!);
  const sub = pub.duplicate();
  const server = http.createServer();
  const io = new Server(server, { adapter: createAdapter(pub, sub) });
  io.on('connection', (socket) => {
    const userId = (socket.handshake.auth as { userId?: unknown }).userId;
    if (typeof userId === 'string') void socket.join(`user-${userId}`);
    socket.on('topic:subscribe', (params: { topic?: unknown }, ack?: (answer: unknown) => void) => {
      if (typeof params?.topic !== 'string') return ack?.({ error: { code: 'invalid_request' } });
      void socket.join(`topic-${params.topic}`);
      ack?.({ data: { topic: params.topic } });
    });
  });
  // The same accept backlog as Herald's gateway, so a burst of connections meets the same queue.
  await new Promise<void>((resolve) => server.listen({ port: Number(process.env.PORT), host: '127.0.0.1', backlog: 4096 }, resolve));
  const stats = () => {
    const memory = process.memoryUsage();
    return { pid: process.pid, sockets: io.of('/').sockets.size, heapUsed: memory.heapUsed, rss: memory.rss };
  };
  serve({
    stats,
    async collectGarbage() {
      for (let i = 0; i < 3; i++) {
        globalThis.gc?.();
        await new Promise((r) => setTimeout(r, 100));
      }
      return stats();
    },
    async close() {
      await io.close();
      pub.disconnect();
      sub.disconnect();
    },
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
