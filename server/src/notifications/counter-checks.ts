import type { RedisRecovery } from '../platform/redis-recovery';

/** Bounds the users remembered as checked (a process with more starts over: each is checked once more). */
const MAX_CHECKED_USERS = 200_000;

/**
 * The users whose seq counter this process has checked against the database (one lookup of the seq
 * past its top) since its Redis connection last opened. A counter falls behind what is stored only when
 * Redis loses writes: a restart from an older snapshot, a failover to a replica that lagged. Each of
 * those closes this process's connection, which forgets every check. So a catch-up reads the database
 * for that once per user per connection, not on every reconnect (in a reconnect storm, every client).
 * Forgotten as a step of the process's "Redis is back" routine, at the loss.
 */
export function counterChecks(recovery: RedisRecovery | undefined) {
  const checked = new Set<string>();
  let generation = 0;
  const forget = () => {
    checked.clear();
    generation++;
  };
  const remove = recovery?.add('counter checks', { lost: forget }) ?? (() => undefined);
  return {
    stop: remove,
    /** Taken before the counter is read: a check recorded under an older one is not kept. */
    generation: () => generation,
    needed: (userId: string) => !checked.has(userId),
    passed(userId: string, since: number) {
      if (since !== generation) return;
      if (checked.size >= MAX_CHECKED_USERS) checked.clear();
      checked.add(userId);
    },
  };
}
