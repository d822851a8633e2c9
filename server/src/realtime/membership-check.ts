import type { HeraldNames } from '@herald/shared';
import type { Logger } from '../platform/logger';
import { readKeys, type RedisClient } from '../platform/redis-client';
import type { TopicService } from '../topics/topic-service';
import type { IoServer, IoSocket } from './io-types';
import { localSocketsByUser } from './local-sockets';
import { everyInterval } from './periodic-check';
import type { SocketSessions } from './socket-session';

/** How often the membership versions of the users here are compared. @default 2000 */
const CHECK_INTERVAL_MS = 2000;
/** Users whose topics are read in one query. */
const USERS_PER_READ = 500;
/** Stands for "reconcile failed": never equal to a stored version. */
const RETRY = 'retry';

/**
 * Topic membership is the database's; the `topic-membership` message on a user's channel only makes
 * a change take effect at once. When that message is lost (this instance's subscriber was down), the
 * user's membership version (a Redis counter every change bumps) still moved: every 2 s this instance
 * reads the versions of the users whose sockets it holds (MGETs, no database query), and for a user
 * whose version changed reads the user's topics from the database (500 users per query) and makes every local socket of
 * theirs leave the topics they left and join the ones they joined. So a removal takes effect on every
 * socket within about 2 s, lost message or not; a new socket joins from the database as it opens.
 */
export interface MembershipCheck {
  /**
   * A socket of this user joined its topics as they were after the membership version was `version`:
   * the baseline the user's next version is compared with (kept if one is held already).
   */
  restored(userId: string, version: string | null): void;
  stop(): void;
}

export function startMembershipCheck(deps: {
  io: IoServer;
  redis: RedisClient;
  names: HeraldNames;
  topics: Pick<TopicService, 'topicsOfUsers'>;
  sessions: Pick<SocketSessions, 'joinTopic' | 'leaveTopic' | 'topicsOf'>;
  logger: Logger;
  intervalMs?: number;
}): MembershipCheck {
  const log = deps.logger.child({ module: 'membership-check' });
  /** The version each user here had when last compared (null: no change ever recorded). */
  let seen = new Map<string, string | null>();

  /** Each of these users' sockets leave the topics they left and join the ones they joined, as the database has them. */
  async function reconcile(userIds: string[], byUser: Map<string, IoSocket[]>): Promise<void> {
    const topicsOf = await deps.topics.topicsOfUsers(userIds);
    for (const userId of userIds) {
      const topics = new Set(topicsOf.get(userId) ?? []);
      for (const socket of byUser.get(userId)!) {
        for (const topic of deps.sessions.topicsOf(socket)) if (!topics.has(topic)) deps.sessions.leaveTopic(socket, topic);
        await Promise.all([...topics].map((topic) => deps.sessions.joinTopic(socket, topic)));
      }
    }
  }

  async function check(): Promise<void> {
    const byUser = localSocketsByUser(deps.io);
    const users = [...byUser.keys()];
    const current = await readKeys(
      deps.redis,
      users.map((userId) => deps.names.membershipKey(userId)),
    );
    const next = new Map<string, string | null>();
    const changed: string[] = [];
    users.forEach((userId, i) => {
      const version = current[i] ?? null;
      next.set(userId, version);
      // A user without a baseline yet is compared from the next check on.
      if (seen.has(userId) && seen.get(userId) !== version) changed.push(userId);
    });
    // Baselines recorded while this check ran (sockets that opened meanwhile) are kept.
    for (const [userId, version] of seen) if (!next.has(userId) && byUser.has(userId)) next.set(userId, version);
    seen = next;
    // Many users at once (everyone joining a live event's topic): one query per batch, not one per user.
    for (let i = 0; i < changed.length; i += USERS_PER_READ) {
      const batch = changed.slice(i, i + USERS_PER_READ);
      await reconcile(batch, byUser).catch((error: unknown) => {
        // Compared again next time: a version no counter has, so the change is seen again.
        for (const userId of changed.slice(i)) seen.set(userId, RETRY);
        throw error;
      });
    }
  }

  const stop = everyInterval(deps.intervalMs ?? CHECK_INTERVAL_MS, check, log, 'membership check skipped');
  return {
    restored(userId, version) {
      if (!seen.has(userId)) seen.set(userId, version);
    },
    stop,
  };
}
