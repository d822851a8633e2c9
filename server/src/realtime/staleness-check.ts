import type { HeraldNames } from '@herald/shared';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import { readKeys, type RedisClient } from '../platform/redis-client';
import type { IoServer, IoSocket } from './io-types';
import { everyInterval } from './periodic-check';

/** How often the users with sockets here are checked. @default 1000 */
const CHECK_INTERVAL_MS = 1000;
/**
 * A lag must last this long before it counts: a publish between its seq and its push is not one, even
 * on a busy server (a hint that overtook the push would turn a live arrival into a synced one).
 */
const CONFIRM_MS = 1900;
/** A socket still behind is reminded at most this often (a slow insert, a seq that was never stored). */
const HINT_EVERY_MS = 2000;

interface Position {
  /** The newest seq up to which this socket has everything: its last sync's settledSeq, then each next live push. */
  seq: number;
  /** The counter value this socket was first seen behind, and when. */
  behind?: { counter: number; since: number };
  hintedAt?: number;
}

/**
 * What each socket has been sent, as far as this instance knows: set by a sync's answer, moved by each
 * live push that follows on. Kept beside the socket (a WeakMap), gone with it.
 */
export interface DeliveryPositions {
  /** A sync answered: everything up to `settledSeq` is the socket's (unless `hasMore`: it asks again at once). */
  synced(socket: IoSocket, settledSeq: number, hasMore: boolean): void;
  /** Since when the socket has been seen behind its user's counter, if it is. */
  behindSince(socket: IoSocket): number | undefined;
  /** A notification with `seq` was pushed live to the socket. */
  pushed(socket: IoSocket, seq: number): void;
}

export function createDeliveryPositions(): DeliveryPositions & { entry(socket: IoSocket): Position | undefined } {
  const positions = new WeakMap<IoSocket, Position>();
  return {
    synced(socket, settledSeq, hasMore) {
      if (hasMore) return; // the client asks for the next page at once
      const position = positions.get(socket);
      if (position) position.seq = settledSeq;
      else positions.set(socket, { seq: settledSeq });
    },
    behindSince: (socket) => positions.get(socket)?.behind?.since,
    pushed(socket, seq) {
      const position = positions.get(socket);
      if (position && seq === position.seq + 1) position.seq = seq;
    },
    entry: (socket) => positions.get(socket),
  };
}

/**
 * Bounded staleness. A notification can be stored while its live push never arrives (the publisher
 * died between the insert and the PUBLISH, Redis blipped on its side, the insert was applied after its
 * caller gave up). Every second this instance reads, for the users whose sockets it holds, each user's
 * seq counter (the highest seq handed out, so at least every stored one: a few MGETs for thousands of
 * users, no database query) and compares it with what each socket is known to have. A socket behind
 * for a full check with the same counter gets `notifications:resync`, and syncs; one still behind is
 * reminded every 2 s. So a stored notification reaches every connected socket of its user within
 * about 3 s of being stored (the check, its 2 s confirmation, the sync). The model is Centrifugo's
 * periodic check of a subscription's stream position against the stream's top.
 */
export function startStalenessCheck(deps: {
  io: IoServer;
  redis: RedisClient;
  names: HeraldNames;
  positions: ReturnType<typeof createDeliveryPositions>;
  metrics: Pick<Metrics, 'stalenessHints' | 'stalenessCheckSeconds'>;
  logger: Logger;
  intervalMs?: number;
}): () => void {
  const log = deps.logger.child({ module: 'staleness-check' });

  async function counters(userIds: string[]): Promise<Map<string, number>> {
    const values = await readKeys(
      deps.redis,
      userIds.map((userId) => deps.names.seqKey(userId)),
    );
    const result = new Map<string, number>();
    values.forEach((value, i) => value !== null && result.set(userIds[i]!, Number(value)));
    return result;
  }

  async function check(): Promise<void> {
    const started = performance.now();
    const sockets = [...deps.io.of('/').sockets.values()];
    const users = [...new Set(sockets.map((socket) => socket.data.userId))];
    const counter = await counters(users);
    const now = Date.now();
    for (const socket of sockets) {
      const position = deps.positions.entry(socket);
      const top = counter.get(socket.data.userId);
      if (!position || top === undefined || top <= position.seq) {
        if (position) delete position.behind;
        continue;
      }
      if (!position.behind || position.behind.counter !== top) {
        position.behind = { counter: top, since: now };
        continue;
      }
      if (now - position.behind.since < CONFIRM_MS || now - (position.hintedAt ?? 0) < HINT_EVERY_MS) continue;
      position.hintedAt = now;
      socket.emit('notifications:resync');
      deps.metrics.stalenessHints.inc();
    }
    deps.metrics.stalenessCheckSeconds.observe((performance.now() - started) / 1000);
  }

  // Redis down: nothing to compare with; the resync on its return covers the outage.
  return everyInterval(deps.intervalMs ?? CHECK_INTERVAL_MS, check, log, 'staleness check skipped');
}
