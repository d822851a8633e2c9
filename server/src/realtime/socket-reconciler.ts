import type { HeraldNames } from '@herald/shared';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import { readKeys, type RedisClient } from '../platform/redis-client';
import type { TopicService } from '../topics/topic-service';
import type { createDeliveryPositions } from './delivery-positions';
import type { IoServer, IoSocket } from './io-types';
import { localSocketsByUser } from './local-sockets';
import { everyInterval } from './periodic-check';
import type { SocketSessions } from './socket-session';

/** How often the sockets here are reconciled. @default 1000 */
const CHECK_INTERVAL_MS = 1000;
/**
 * A lag must last this long before it counts: a publish between its seq and its push is not one, even
 * on a busy server (a hint that overtook the push would turn a live arrival into a synced one).
 */
const CONFIRM_MS = 1900;
/** A socket still behind is reminded at most this often (a slow insert, a seq that was never stored). */
const HINT_EVERY_MS = 2000;
/** Users whose topics are read in one query. */
const USERS_PER_READ = 500;
/** Stands for "reconcile failed": never equal to a stored version. */
const RETRY = 'retry';

/**
 * The one loop that brings this instance's sockets back in line with what Redis says, every second, from
 * one read: each local user's seq counter and membership version (both keys hash-tagged by the user, so
 * one MGET per slot; no database query unless something changed).
 *
 * - **Staleness.** A notification can be stored while its live push never arrives (the publisher died
 *   between the insert and the PUBLISH, Redis blipped on its side, the insert was applied after its
 *   caller gave up). A socket behind its user's counter for a full check with the same counter gets
 *   `notifications:resync`, and syncs; one still behind is reminded every 2 s. So a stored
 *   notification reaches every connected socket of its user within about 3 s of being stored. The
 *   model is Centrifugo's periodic check of a subscription's stream position against the stream's top.
 * - **Membership.** Topic membership is the database's; the `topic-membership` message on a user's
 *   channel only makes a change take effect at once. When that message is lost, the user's membership
 *   version (a counter every change bumps) still moved: for a user whose version changed, the user's
 *   topics are read from the database (500 users per query) and every local socket of theirs leaves the
 *   topics they left and joins the ones they joined, within about a second.
 *
 * Redis down: nothing to compare with; the resync on its return covers the outage (see RedisRecovery).
 */
export interface SocketReconciler {
  /**
   * A socket of this user joined its topics as they were after the membership version was `version`:
   * the baseline the user's next version is compared with (kept if one is held already).
   */
  restored(userId: string, version: string | null): void;
  stop(): void;
}

export function startSocketReconciler(deps: {
  io: IoServer;
  redis: RedisClient;
  names: HeraldNames;
  positions: ReturnType<typeof createDeliveryPositions>;
  topics: Pick<TopicService, 'topicsOfUsers'>;
  sessions: Pick<SocketSessions, 'joinTopic' | 'leaveTopic' | 'topicsOf'>;
  metrics: Pick<Metrics, 'stalenessHints' | 'stalenessCheckSeconds'>;
  logger: Logger;
  intervalMs?: number;
  /** Hint sockets that are behind (false: membership only). @default true */
  staleness?: boolean;
}): SocketReconciler {
  const log = deps.logger.child({ module: 'socket-reconciler' });
  /** The membership version each user here had when last compared (null: no change ever recorded). */
  let seen = new Map<string, string | null>();

  function hintBehind(sockets: IoSocket[], counters: Map<string, number>, now: number): void {
    for (const socket of sockets) {
      const position = deps.positions.entry(socket);
      const top = counters.get(socket.data.userId);
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
  }

  /** Each of these users' sockets leave the topics they left and join the ones they joined, as the database has them. */
  async function rejoin(userIds: string[], byUser: Map<string, IoSocket[]>): Promise<void> {
    const topicsOf = await deps.topics.topicsOfUsers(userIds);
    for (const userId of userIds) {
      const topics = new Set(topicsOf.get(userId) ?? []);
      for (const socket of byUser.get(userId)!) {
        for (const topic of deps.sessions.topicsOf(socket)) if (!topics.has(topic)) deps.sessions.leaveTopic(socket, topic);
        await Promise.all([...topics].map((topic) => deps.sessions.joinTopic(socket, topic)));
      }
    }
  }

  async function reconcileMemberships(byUser: Map<string, IoSocket[]>, versions: Map<string, string | null>): Promise<void> {
    const next = new Map<string, string | null>();
    const changed: string[] = [];
    for (const [userId, version] of versions) {
      next.set(userId, version);
      // A user without a baseline yet is compared from the next check on.
      if (seen.has(userId) && seen.get(userId) !== version) changed.push(userId);
    }
    // Baselines recorded while this check ran (sockets that opened meanwhile) are kept.
    for (const [userId, version] of seen) if (!next.has(userId) && byUser.has(userId)) next.set(userId, version);
    seen = next;
    // Many users at once (everyone joining a live event's topic): one query per batch, not one per user.
    for (let i = 0; i < changed.length; i += USERS_PER_READ) {
      await rejoin(changed.slice(i, i + USERS_PER_READ), byUser).catch((error: unknown) => {
        // Compared again next time: a version no counter has, so the change is seen again.
        for (const userId of changed.slice(i)) seen.set(userId, RETRY);
        throw error;
      });
    }
  }

  async function check(): Promise<void> {
    const started = performance.now();
    const byUser = localSocketsByUser(deps.io);
    const users = [...byUser.keys()];
    const values = await readKeys(
      deps.redis,
      users.flatMap((userId) => [deps.names.seqKey(userId), deps.names.membershipKey(userId)]),
    );
    const counters = new Map<string, number>();
    const versions = new Map<string, string | null>();
    users.forEach((userId, i) => {
      const counter = values[2 * i];
      if (counter !== null && counter !== undefined) counters.set(userId, Number(counter));
      versions.set(userId, values[2 * i + 1] ?? null);
    });
    if (deps.staleness !== false) {
      hintBehind([...byUser.values()].flat(), counters, Date.now());
      deps.metrics.stalenessCheckSeconds.observe((performance.now() - started) / 1000);
    }
    await reconcileMemberships(byUser, versions);
  }

  const stop = everyInterval(deps.intervalMs ?? CHECK_INTERVAL_MS, check, log, 'socket reconciliation skipped');
  return {
    restored(userId, version) {
      if (!seen.has(userId)) seen.set(userId, version);
    },
    stop,
  };
}
