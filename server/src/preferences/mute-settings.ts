import type { Connection } from 'mongoose';
import type { HeraldNames } from '@herald/shared';
import type { Logger } from '../platform/logger';
import { isCluster, publishTo, type RedisClient } from '../platform/redis-client';
import type { RedisRecovery } from '../platform/redis-recovery';
import { preferenceModel } from './preference-model';
import { readEffectivePreferences } from './effective-preferences';

/** Who, of some recipients, has muted a type or turned a category off: nothing is stored or sent for them. */
export interface MuteSettings {
  /**
   * Per request, the recipients who muted that request's type or turned its category off in-app. A
   * request in a critical category reaches everyone. Recipients this process knows cost nothing;
   * the others are read in one query for all of them.
   */
  forEach(requests: readonly MuteQuery[]): Promise<Set<string>[]>;
  /**
   * After a user's preferences were stored: every process forgets what it knew of them (this one at
   * once, the others when the message reaches them). Rejects when Redis does not take the message.
   */
  changed(userId: string): Promise<void>;
  /**
   * Per request, the recipients who turned its category off as Web Push messages and by email (a
   * critical category: nobody). From the same kept settings as forEach.
   */
  channelsOff(requests: readonly MuteQuery[]): Promise<{ push: Set<string>; email: Set<string> }[]>;
  /** Stops listening; the connections stay open. */
  close(): void;
}

export interface MuteQuery {
  userIds: readonly string[];
  type: string;
  category?: string | undefined;
}

interface Muted {
  types: ReadonlySet<string>;
  /** Categories off in-app (not stored), as push messages, by email. */
  categories: ReadonlySet<string>;
  pushOff: ReadonlySet<string>;
  emailOff: ReadonlySet<string>;
}

/** Users whose settings one process keeps at most (the least recently used leave first). */
const MAX_USERS = 100_000;
/**
 * A kept setting is read again after this long: the bound on a change whose message was lost
 * while the subscriber connection stayed up (it never is on a healthy Redis).
 */
const KEEP_MS = 60_000;

/**
 * Mute settings kept in each publishing process, so a publish reads no preferences and asks Redis
 * nothing about them: every key a publish touches is its recipients'. A preference change publishes
 * the user id on one channel (`names.preferencesChannel`, only on a change, never per publish), and
 * every process drops that user's entry. While this process's subscriber connection is down it can
 * miss such a message, so it keeps nothing from the moment the connection drops until it is
 * subscribed again (then it starts empty): meanwhile every recipient is read from the database. A
 * read that began before a change does not keep its answer. Without a subscriber, nothing is kept.
 */
export function createMuteSettings(deps: {
  connection: Connection;
  /** Commands (the change message is published on it). */
  redis: RedisClient;
  /**
   * How changes are heard: a subscriber-mode connection (possibly shared) and the process's "Redis is
   * back" routine on it, whose steps drop everything at a loss and subscribe again on the return.
   */
  listen?: { subscriber: RedisClient; recovery: RedisRecovery };
  names: HeraldNames;
  logger: Logger;
  critical?: readonly string[];
}): MuteSettings {
  const Preference = preferenceModel(deps.connection);
  const critical = new Set(deps.critical ?? []);
  const channel = deps.names.preferencesChannel;
  const log = deps.logger.child({ module: 'mute-settings' });
  const kept = new Map<string, { muted: Muted | null; at: number }>();
  /** Bumped on every change heard and whenever kept entries can no longer be trusted. */
  let changes = 0;
  let listening = false;

  const forgetAll = () => {
    kept.clear();
    changes++;
  };
  const forget = (userId: string) => {
    kept.delete(userId);
    // A user's defaults changed: their tenant feeds (`<tenant>/<userId>`) read them too.
    if (!userId.includes('/')) for (const key of kept.keys()) if (key.endsWith(`/${userId}`)) kept.delete(key);
    changes++;
  };

  const subscriber = deps.listen?.subscriber;
  const sharded = subscriber !== undefined && isCluster(subscriber);
  const onMessage = (from: string, userId: string) => {
    if (from === channel) forget(userId);
  };
  const onDown = () => {
    listening = false;
    forgetAll();
  };
  const subscribe = async () => {
    if (!subscriber) return;
    try {
      await (sharded ? subscriber.ssubscribe(channel) : subscriber.subscribe(channel));
      forgetAll();
      listening = true;
    } catch (error) {
      log.warn({ err: error }, 'could not subscribe to preference changes; reading them from the database');
    }
  };
  let removeStep = () => undefined as void;
  if (deps.listen) {
    deps.listen.subscriber.on(sharded ? 'smessage' : 'message', onMessage);
    // Sent now (queued until the connection is up), and again each time Redis is back.
    void subscribe();
    removeStep = deps.listen.recovery.add('mute settings', { lost: onDown, back: subscribe });
  }

  function known(userId: string, now: number): Muted | null | undefined {
    const entry = kept.get(userId);
    if (!entry || now - entry.at > KEEP_MS) return undefined;
    // Most recently used last: the first key is the one to drop.
    kept.delete(userId);
    kept.set(userId, entry);
    return entry.muted;
  }

  async function read(userIds: string[]): Promise<Map<string, Muted | null>> {
    const since = changes;
    // A tenant feed's settings are the user's defaults with the feed's own on top.
    const effective = await readEffectivePreferences(Preference, userIds);
    const found = new Map<string, Muted | null>(userIds.map((userId) => [userId, null]));
    for (const [key, doc] of effective) {
      if (!doc) continue;
      const muted: Muted = {
        types: new Set(doc.mutedTypes ?? []),
        categories: new Set(doc.mutedCategories ?? []),
        pushOff: new Set(doc.pushOffCategories ?? []),
        emailOff: new Set(doc.emailOffCategories ?? []),
      };
      if (Object.values(muted).some((set: ReadonlySet<string>) => set.size > 0)) found.set(key, muted);
    }
    // A change heard while reading may be newer than what was read: keep nothing then.
    if (listening && since === changes) {
      const at = Date.now();
      for (const [userId, muted] of found) kept.set(userId, { muted, at });
      for (const userId of kept.keys()) {
        if (kept.size <= MAX_USERS) break;
        kept.delete(userId);
      }
    }
    return found;
  }

  /** The settings of the recipients of these requests (a critical category's need none): kept ones, the rest read at once. */
  async function settingsOf(requests: readonly MuteQuery[]): Promise<Map<string, Muted | null>> {
    const deciding = requests.filter((request) => request.category === undefined || !critical.has(request.category));
    const now = Date.now();
    const settings = new Map<string, Muted | null>();
    const unknown = new Set<string>();
    for (const request of deciding) {
      for (const userId of request.userIds) {
        if (settings.has(userId) || unknown.has(userId)) continue;
        const muted = known(userId, now);
        if (muted === undefined) unknown.add(userId);
        else settings.set(userId, muted);
      }
    }
    if (unknown.size > 0) for (const [userId, muted] of await read([...unknown])) settings.set(userId, muted);
    return settings;
  }

  return {
    async forEach(requests) {
      const settings = await settingsOf(requests);
      return requests.map((request) => {
        if (request.category !== undefined && critical.has(request.category)) return new Set<string>();
        return new Set(
          request.userIds.filter((userId) => {
            const muted = settings.get(userId);
            return !!muted && (muted.types.has(request.type) || (request.category !== undefined && muted.categories.has(request.category)));
          }),
        );
      });
    },
    async channelsOff(requests) {
      const settings = await settingsOf(requests);
      // Off the page a notification without a category is set by its type (an unsubscribe link names it so).
      return requests.map(({ userIds, type, category }) => {
        const key = category ?? type;
        const off = (channel: 'pushOff' | 'emailOff') =>
          new Set(critical.has(key) ? [] : userIds.filter((userId) => settings.get(userId)?.[channel].has(key)));
        return { push: off('pushOff'), email: off('emailOff') };
      });
    },
    async changed(userId) {
      forget(userId);
      await publishTo(deps.redis, channel, userId);
    },
    close() {
      removeStep();
      if (!subscriber) return;
      subscriber.off('message', onMessage);
      subscriber.off('smessage', onMessage);
      const done = sharded ? subscriber.sunsubscribe(channel) : subscriber.unsubscribe(channel);
      done.catch(() => undefined);
    },
  };
}
