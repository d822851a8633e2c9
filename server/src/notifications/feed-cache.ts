import { randomBytes } from 'node:crypto';
import type { HeraldNames, Notification, NotificationCounts } from '@herald/shared';
import type { Logger } from '../platform/logger';
import { isCluster, type RedisClient } from '../platform/redis-client';
import { withTimeout } from '../platform/with-timeout';
import type { MutersAnswer, MutersQuestion } from '../preferences/muted-recipients';
import { countPerUser, TAKE_SEQS } from './sequence';

/**
 * Counts: every change bumps `v`; the cached counts are valid only while `at`
 * equals `v`. A publish that finds them valid adds its notifications to them
 * (new notifications are always unread and unseen) and stays valid; any other
 * change leaves them stale until the next read recomputes them.
 *
 * A publish announces its notifications (`pending`) before it inserts them,
 * and counts are never stored as valid while any are pending: a count that ran
 * while an insert landed may or may not include it, and the publish's increment
 * would then count it twice. Such a count is kept as provisional instead: served
 * (flagged `inFlight`, so clients ask again later) until the next change, never
 * added to. Reads say `inFlight` whenever a publish is pending: its notification
 * may be stored, and returned by a read, before it is counted.
 *
 * `pending` lives in Redis, so a Redis restart (or an expired hash) forgets it
 * while inserts are still in flight. Each hash therefore carries an `epoch`, set
 * when it is created; a publish adds to the counts only if the hash is the one
 * it announced itself in (same epoch). Otherwise it only makes them stale, and
 * the next read counts again.
 *
 * Recent notifications: a publish also keeps each new notification, as the
 * client sees it, in the user's `recent` hash (seq -> JSON), so a catch-up of
 * the last hour needs no database read. Any other change (a read, an archive,
 * a delete) drops the whole hash: those come from the database again.
 */
/**
 * An announcement this old is taken as dead (its publisher crashed between announcing and reporting):
 * it no longer keeps counts from being cached, nor makes them provisional. A publish renews its
 * announcement every RENEW_MS while it waits for its insert, so only a crashed one's gets this old.
 */
export const PENDING_STALE_SECONDS = 30;

/** Whether an announcement made within PENDING_STALE_SECONDS is still pending (Redis's clock, as every writer's). */
const PENDING_LIVE = `
local function pendingLive(key)
  if tonumber(redis.call('HGET', key, 'pending') or '0') <= 0 then return false end
  local at = redis.call('HGET', key, 'addingAt')
  -- Announced by a Herald older than this field (a rolling upgrade): taken as live, as it always was.
  if not at then return true end
  return tonumber(redis.call('TIME')[1]) - tonumber(at) < ${PENDING_STALE_SECONDS}
end
`;

/**
 * Announces notifications for each user: per user, KEYS counts and seq counter (sharing the user's hash
 * tag) from `firstKey`, ARGV how many are announced, how many seqs to take (TAKE_SEQS; 0 for none) and
 * the epoch to give the hash if this creates it, from `firstArg`; ARGV[1] the TTL. Returns, per user,
 * the hash's epoch and the last seq taken (-1: the counter must be seeded; 0 when none was asked for).
 * Taking the seqs in the same step means no seq is handed out unannounced.
 */
const ANNOUNCE =
  TAKE_SEQS +
  `
local function announce(firstKey, firstArg)
  local out = {}
  local a = firstArg
  for i = firstKey, #KEYS, 2 do
    redis.call('HSETNX', KEYS[i], 'epoch', ARGV[a + 2])
    redis.call('HINCRBY', KEYS[i], 'pending', ARGV[a])
    redis.call('HSET', KEYS[i], 'addingAt', redis.call('TIME')[1])
    redis.call('EXPIRE', KEYS[i], ARGV[1])
    out[#out + 1] = redis.call('HGET', KEYS[i], 'epoch')
    out[#out + 1] = tonumber(ARGV[a + 1]) > 0 and takeSeqs(KEYS[i + 1], ARGV[a + 1]) or 0
    a = a + 3
  end
  return out
end
`;

const ADDING = ANNOUNCE + `return announce(1, 2)`;

/**
 * ADDING, unless one of ARGV[3] users (ARGV[4] on; none: no check) may mute something: KEYS[1] is the muters set
 * (see MutersIndex), ARGV[2] the member that says it is complete, and the users' keys and arguments
 * follow. Returns {1, ADDING's answer}, or {0, SMISMEMBER's} with nothing done.
 */
const ADDING_UNLESS_MUTERS =
  ANNOUNCE +
  `
local n = tonumber(ARGV[3])
if n > 0 then
  local flags = redis.call('SMISMEMBER', KEYS[1], ARGV[2], unpack(ARGV, 4, 3 + n))
  if flags[1] == 0 then return {0, flags} end
  for i = 2, #flags do
    if flags[i] == 1 then return {0, flags} end
  end
end
return {1, announce(2, 4 + n)}`;

/**
 * Users per script call at most: a call runs alone in Redis, so a publish to many users goes as several
 * (in one round trip) and other clients' commands run between them. Also below Lua's limit on how many
 * values one `unpack` may take.
 */
const SCRIPT_USERS = 500;

/** The announcement (epoch ARGV[1]) is still being worked on: its time is renewed, if it is still this hash's. */
const STILL_ADDING = `
if redis.call('HGET', KEYS[1], 'epoch') == ARGV[1] and tonumber(redis.call('HGET', KEYS[1], 'pending') or '0') > 0 then
  redis.call('HSET', KEYS[1], 'addingAt', redis.call('TIME')[1])
end
return 1`;

/** While a publish is in flight, its announcement is renewed this often (well within PENDING_STALE_SECONDS). */
const RENEW_MS = 10_000;
/** Renewals of one announcement at most (10 minutes: longer than any insert is waited for). */
const MAX_RENEWALS = 60;

/**
 * v, at, unread, unseen, 1 when a live announcement is pending (see PENDING_LIVE), and the hash's
 * epoch. Counts taken while one was (provisional, see STORE) stand in for the counts while nothing
 * else changed and it is still pending: at = v, with the flag set.
 */
const COUNTS_FIELDS =
  PENDING_LIVE +
  `
local function countsFields(key)
  local fields = redis.call('HMGET', key, 'v', 'at', 'unread', 'unseen', 'pv', 'punread', 'punseen', 'epoch')
  local live = pendingLive(key)
  if fields[1] ~= fields[2] and live and fields[5] == fields[1] then
    return {fields[1], fields[1], fields[6], fields[7], 1, fields[8]}
  end
  return {fields[1], fields[2], fields[3], fields[4], live and 1 or 0, fields[8]}
end
`;

const READ = COUNTS_FIELDS + `return countsFields(KEYS[1])`;

/**
 * What a sync reads first, in one step: the counts (as READ, KEYS[1]), the user's seq counter
 * (KEYS[2]) and, when the counter is at most ARGV[2] past ARGV[1], the cached notifications of every
 * seq after ARGV[1] up to it (KEYS[3]; false where there is none). The keys share the user's hash tag.
 */
const SYNC_READ =
  COUNTS_FIELDS +
  `
local counts = countsFields(KEYS[1])
local highest = redis.call('GET', KEYS[2])
local window = {}
if highest then
  local after, top = tonumber(ARGV[1]), tonumber(highest)
  if top > after and top - after <= tonumber(ARGV[2]) then
    local seqs = {}
    for seq = after + 1, top do seqs[#seqs + 1] = seq end
    window = redis.call('HMGET', KEYS[3], unpack(seqs))
  end
end
return {counts, highest, window}`;

/** Whether the hash is the one the caller announced in (`epoch`); if so, lowers `pending` by n (never below 0). */
const SETTLE = `
local function settle(key, n, epoch)
  local same = redis.call('HGET', key, 'epoch') == epoch
  if same then
    local pending = redis.call('HINCRBY', key, 'pending', -n)
    if pending < 0 then redis.call('HSET', key, 'pending', 0) end
  end
  return same
end
`;

/**
 * Stored notifications, per user: KEYS counts and recent notifications; ARGV how many, the epoch
 * announced in, then seq and JSON of each. ARGV[1], ARGV[2]: the TTLs of counts and recent ones.
 */
const ADDED =
  SETTLE +
  `
local a = 3
for i = 1, #KEYS, 2 do
  local n = tonumber(ARGV[a])
  local same = settle(KEYS[i], n, ARGV[a + 1])
  local v = redis.call('HINCRBY', KEYS[i], 'v', 1)
  local at = tonumber(redis.call('HGET', KEYS[i], 'at') or '-1')
  if same and at == v - 1 then
    redis.call('HINCRBY', KEYS[i], 'unread', n)
    redis.call('HINCRBY', KEYS[i], 'unseen', n)
    redis.call('HSET', KEYS[i], 'at', v)
  end
  redis.call('EXPIRE', KEYS[i], ARGV[1])
  if n > 0 then
    redis.call('HSET', KEYS[i + 1], unpack(ARGV, a + 2, a + 1 + 2 * n))
    redis.call('EXPIRE', KEYS[i + 1], ARGV[2])
  end
  a = a + 2 + 2 * n
end
return 1`;

const CHANGED = `
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return v`;

/**
 * Announced notifications that were not stored after all: no longer pending, and the counts are stale.
 * Per user, KEYS the counts; ARGV how many and the epoch announced in. ARGV[1]: the TTL.
 */
const ABANDONED =
  SETTLE +
  `
for i = 1, #KEYS do
  settle(KEYS[i], tonumber(ARGV[2 * i]), ARGV[2 * i + 1])
  redis.call('HINCRBY', KEYS[i], 'v', 1)
  redis.call('EXPIRE', KEYS[i], ARGV[1])
end
return 1`;

/**
 * Stores counts computed at version ARGV[1], unless something changed since. While a publish is in
 * flight they may or may not include it, so they are kept only as provisional (`pv`, `punread`,
 * `punseen`): served, flagged, instead of counting again, until the next change; never added to.
 */
const STORE =
  PENDING_LIVE +
  `
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[1]) then return 0 end
if pendingLive(KEYS[1]) then
  redis.call('HSET', KEYS[1], 'pv', v, 'punread', ARGV[2], 'punseen', ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  return 0
end
-- An announcement left by a dead publisher is dropped with the count that outlived it, and the hash
-- starts a new life (epoch): should that publisher's insert land after all, its report finds another
-- epoch and only makes the counts stale, rather than adding a notification this count may include.
if tonumber(redis.call('HGET', KEYS[1], 'pending') or '0') > 0 then
  redis.call('HSET', KEYS[1], 'epoch', ARGV[5])
else
  redis.call('HSETNX', KEYS[1], 'epoch', ARGV[5])
end
redis.call('HSET', KEYS[1], 'v', v, 'at', v, 'unread', ARGV[2], 'unseen', ARGV[3], 'pending', 0)
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1`;

interface FeedCacheScripts {
  /** The scripts for many users: the number of keys, the keys, then the arguments (see forUsers). */
  heraldFeedAdded(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<number>;
  heraldFeedAdding(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<(string | number | null)[]>;
  heraldFeedAbandoned(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<number>;
  heraldFeedAddingUnlessMuters(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<[number, (string | number | null)[]]>;
  /** The same for one user: the keys, then the arguments. */
  heraldFeedAddedOne(...keysAndArgs: (string | number)[]): Promise<number>;
  heraldFeedAddingOne(...keysAndArgs: (string | number)[]): Promise<(string | number | null)[]>;
  heraldFeedAbandonedOne(...keysAndArgs: (string | number)[]): Promise<number>;
  heraldFeedChanged(counts: string, recent: string, ttl: number): Promise<number>;
  heraldFeedStillAdding(counts: string, epoch: string): Promise<number>;
  heraldCountsStore(key: string, version: number, unread: number, unseen: number, ttl: number, epoch: string): Promise<number>;
  heraldCountsRead(key: string): Promise<CountsFields>;
  heraldSyncRead(
    counts: string,
    seq: string,
    recent: string,
    afterSeq: number,
    limit: number,
  ): Promise<[CountsFields, string | null, (string | null)[]]>;
}

/** v, at, unread, unseen, live, epoch (see COUNTS_FIELDS). */
type CountsFields = [string | null, string | null, string | null, string | null, number, string | null];

/**
 * A cache only: the database stays the truth. Counts are served from Redis
 * only while no change has happened since they were computed, and any doubt
 * (a miss, an error, an invalidation that has not reached Redis yet) falls
 * back to the database.
 */
export interface FeedCache {
  /** The counts for a user, computing (and caching) them with `compute` when the cache has none. */
  counts(userId: string, compute: () => Promise<NotificationCounts>): Promise<NotificationCounts>;
  /**
   * The counts, and whether a publish for the user was in flight when they were taken: its notification
   * may be stored (and returned by a read right after) but not counted yet.
   */
  countsWithState(userId: string, compute: () => Promise<NotificationCounts>): Promise<CountsWithState>;
  /**
   * countsWithState for a sync from `afterSeq`: when the counts come from the cache, the user's seq
   * counter and the cached notifications up to it are read with them, at the same instant (one Redis
   * call where there were three; see SyncSnapshot.same).
   */
  syncRead(userId: string, afterSeq: number, limit: number, compute: () => Promise<NotificationCounts>): Promise<SyncSnapshot>;
  /**
   * Notifications for these users (one entry each) are about to be stored: counts are not cached
   * meanwhile. The answer goes to `added` or `abandoned`. In the same Redis step, the next seqs of
   * `seqUserIds` (one per entry) are taken from the users' counters: `taken` resolves with the last seq
   * taken per user (-1: the counter must be seeded), for SequenceAllocator.reserve, and rejects when
   * Redis did not answer. Every seq so taken is announced.
   */
  adding(userIds: string[], seqUserIds?: string[]): Adding;
  /**
   * adding in the same Redis step as the muters check: unless one of `muters.userIds` may mute
   * something (or the set is incomplete), when nothing is announced or taken and the answer is the
   * check's, for MutedRecipients.forEach (with no reply in it when Redis did not answer). Undefined on
   * a Redis Cluster, where the set is in another slot than the users' keys, and for a batch larger than
   * one script call takes (SCRIPT_USERS).
   */
  addingUnlessMuters(
    userIds: string[],
    seqUserIds: string[],
    muters: MutersQuestion,
  ): Promise<Adding | { answer: MutersAnswer }> | undefined;
  /** Notifications just stored (unread, unseen, as the client sees them), each announced by `adding`. */
  added(notifications: Notification[], announced: Announced): Promise<void>;
  /** Announced notifications that could not be stored. */
  abandoned(userIds: string[], announced: Announced): Promise<void>;
  /** Something else changed these users' feeds (read, archive, delete, retention). */
  changed(userIds: string[]): Promise<void>;
  /** The cached notifications of these seqs, in order; undefined where the cache does not have one. */
  recent(userId: string, seqs: number[]): Promise<(Notification | undefined)[]>;
  /**
   * The user's counts stamp now (see CountsWithState.stamp); undefined when a publish is in flight, the
   * cache is in doubt, or Redis does not answer.
   */
  countsStamp(userId: string): Promise<string | undefined>;
  /** Removes the listener this cache attached to the Redis connection it was handed. */
  close(): void;
}

/** Counts, and whether they may leave out a publish still in flight (see FeedCache.countsWithState). */
export interface CountsWithState {
  counts: NotificationCounts;
  inFlight: boolean;
  /**
   * Which life and version of the user's cached counts these are (the hash's epoch and `v`), when no
   * publish was in flight. Every publish announces itself and every stored notification bumps `v`
   * (see ADDING, ADDED), so the same stamp read again later, with nothing in flight then either, means
   * nothing was stored or announced in between: the counts include everything read meanwhile.
   * Undefined when Redis did not answer or the cache is in doubt.
   */
  stamp?: string;
}

/** What a sync reads first (see FeedCache.syncRead). */
export interface SyncSnapshot extends CountsWithState {
  /**
   * Read at the same instant as the counts, which came from the cache: the user's seq counter (null
   * when Redis has none) and, when it is at most `limit` past afterSeq, the cached notification of
   * each seq after afterSeq up to it (undefined where the cache has none). A notification cached here
   * is one the counts include. Absent when the counts were counted in the database (the counter must
   * then be read after them) or Redis did not answer.
   */
  same?: { highest: number | null; window?: (Notification | undefined)[] };
}

/** An announcement, and the last seqs taken with it (see FeedCache.adding). */
export interface Adding {
  announced: Promise<Announced>;
  taken: Promise<Map<string, number>>;
}

/** Which life of each user's cached counts an announcement was made in (their epoch); opaque to callers. */
export type Announced = ReadonlyMap<string, string>;

/** Users whose invalidation failed are kept for a retry when Redis is back; beyond this, the TTL is the fallback. */
const MAX_PENDING = 10_000;

/**
 * Per-user counts and recent notifications cached in Redis, so a reconnecting
 * client's catch-up neither counts documents nor reads them. The database stays
 * the truth: a miss, a Redis error or any doubt falls back to it, and a change
 * that could not reach Redis is retried when it returns (entries expire in any
 * case).
 */
export function createFeedCache(deps: {
  redis: RedisClient;
  logger: Logger;
  names: HeraldNames;
  /** @default 600 */
  countsTtlSeconds?: number;
  /** How long a published notification stays readable from the cache. @default 3600 */
  recentTtlSeconds?: number;
  /** Use the database instead of waiting longer than this for Redis. @default 1000 */
  timeoutMs?: number;
  /** How often an announcement in flight is renewed (tests shorten it). @default 10000 */
  renewMs?: number;
}): FeedCache {
  const ttl = deps.countsTtlSeconds ?? 600;
  const recentTtl = deps.recentTtlSeconds ?? 3600;
  const timeoutMs = deps.timeoutMs ?? 1000;
  const redisCall = <T>(work: Promise<T>) => withTimeout(work, timeoutMs, `redis did not answer within ${timeoutMs} ms`);
  const log = deps.logger.child({ module: 'feed-cache' });
  // Without numberOfKeys: each call says how many keys it names (a whole batch's). On a cluster, one
  // user's per call, with the number fixed: ioredis then routes (and auto-pipelines) by the first key.
  deps.redis.defineCommand('heraldFeedAdded', { lua: ADDED });
  deps.redis.defineCommand('heraldFeedAddingUnlessMuters', { lua: ADDING_UNLESS_MUTERS });
  deps.redis.defineCommand('heraldFeedAddedOne', { numberOfKeys: 2, lua: ADDED });
  deps.redis.defineCommand('heraldFeedAddingOne', { numberOfKeys: 2, lua: ADDING });
  deps.redis.defineCommand('heraldFeedAbandonedOne', { numberOfKeys: 1, lua: ABANDONED });
  deps.redis.defineCommand('heraldFeedChanged', { numberOfKeys: 2, lua: CHANGED });
  deps.redis.defineCommand('heraldCountsStore', { numberOfKeys: 1, lua: STORE });
  deps.redis.defineCommand('heraldCountsRead', { numberOfKeys: 1, lua: READ });
  deps.redis.defineCommand('heraldSyncRead', { numberOfKeys: 3, lua: SYNC_READ });
  deps.redis.defineCommand('heraldFeedAdding', { lua: ADDING });
  deps.redis.defineCommand('heraldFeedStillAdding', { numberOfKeys: 1, lua: STILL_ADDING });
  deps.redis.defineCommand('heraldFeedAbandoned', { lua: ABANDONED });
  const cluster = isCluster(deps.redis);
  /**
   * Runs a script over users, each with its keys (which share the user's hash tag) and arguments after
   * `common`: in one call per SCRIPT_USERS of them on a single Redis, one call per user on a cluster (a
   * call's keys must be in one slot), all in one round trip. Resolves with each user's `width` answers.
   */
  const forUsers = async (
    script: 'heraldFeedAdded' | 'heraldFeedAdding' | 'heraldFeedAbandoned',
    userIds: string[],
    common: (string | number)[],
    part: (userId: string) => { keys: string[]; args: (string | number)[] },
    width = 0,
  ): Promise<Map<string, unknown[]>> => {
    const some = (users: string[]) => {
      const parts = users.map(part);
      const keys = parts.flatMap((p) => p.keys);
      return scripts[script](keys.length, ...keys, ...common, ...parts.flatMap((p) => p.args)) as Promise<unknown>;
    };
    const one = (userId: string) => {
      const { keys, args } = part(userId);
      return scripts[`${script}One`](...keys, ...common, ...args) as Promise<unknown>;
    };
    const chunks: string[][] = [];
    for (let i = 0; i < userIds.length; i += SCRIPT_USERS) chunks.push(userIds.slice(i, i + SCRIPT_USERS));
    const answers = await redisCall(Promise.all(cluster ? userIds.map(one) : chunks.map(some)));
    const flat = answers.flatMap((answer) => (Array.isArray(answer) ? (answer as unknown[]) : []));
    return new Map(userIds.map((userId, i) => [userId, flat.slice(i * width, (i + 1) * width)]));
  };
  // An epoch only has to differ from every other one a hash could have had: this process's random
  // prefix and a counter (a random draw per announced user cost the publisher 2-3% of its CPU).
  const epochPrefix = randomBytes(8).toString('hex');
  let epochs = 0;
  const newEpoch = () => `${epochPrefix}.${(epochs++).toString(36)}`;
  const scripts = deps.redis as unknown as FeedCacheScripts;
  const { countsKey, recentKey, seqKey } = deps.names;
  const pending = new Set<string>();
  /** The renewal timer of each announcement still in flight. */
  const renewals = new Map<Announced, ReturnType<typeof setInterval>>();
  const stopRenewing = (announced: Announced) => {
    clearInterval(renewals.get(announced));
    renewals.delete(announced);
  };

  const invalidate = (userIds: string[]) =>
    redisCall(Promise.all(userIds.map((userId) => scripts.heraldFeedChanged(countsKey(userId), recentKey(userId), ttl))));

  function remember(userIds: string[], error: unknown): void {
    for (const userId of userIds) if (pending.size < MAX_PENDING) pending.add(userId);
    log.warn({ err: error, users: userIds.length }, 'could not update the feed cache; retrying when redis is back');
  }

  const onReady = () => {
    if (pending.size === 0) return;
    const retry = [...pending];
    pending.clear();
    invalidate(retry).catch((error: unknown) => remember(retry, error));
  };
  deps.redis.on('ready', onReady);

  /** The stamp of a read: its epoch and version, when the hash exists, nothing is in flight and no invalidation is owed. */
  const stampOf = (v: string | null, epoch: string | null, inFlight: boolean, userId: string) =>
    v !== null && epoch !== null && !inFlight && !pending.has(userId) ? `${epoch}:${v}` : undefined;

  /** The counts from fields READ returned, when they are valid; undefined when they must be counted. */
  function cachedCounts(userId: string, fields: CountsFields): CountsWithState | undefined {
    const [v, at, unread, unseen, live, epoch] = fields;
    const inFlight = live === 1;
    const stamp = stampOf(v, epoch, inFlight, userId);
    if (v === null || v !== at || unread === null || unseen === null || pending.has(userId)) return undefined;
    return { counts: { unread: Number(unread), unseen: Number(unseen) }, inFlight, ...(stamp ? { stamp } : {}) };
  }

  /** Counts what READ found invalid (fields) and caches them, unless something changed since. */
  async function countAndStore(userId: string, fields: CountsFields, compute: () => Promise<NotificationCounts>): Promise<CountsWithState> {
    const [v, , , , live, epoch] = fields;
    const inFlight = live === 1;
    const stamp = stampOf(v, epoch, inFlight, userId);
    const version = v === null ? 0 : Number(v);
    const counts = await compute();
    await redisCall(scripts.heraldCountsStore(countsKey(userId), version, counts.unread, counts.unseen, ttl, newEpoch())).catch(
      () => undefined,
    );
    // Counted in the database after the stamp was read: whatever the count saw, the stamp still tells
    // whether anything was stored or announced since.
    return { counts, inFlight, ...(stamp ? { stamp } : {}) };
  }

  async function countsWithState(userId: string, compute: () => Promise<NotificationCounts>): Promise<CountsWithState> {
    let fields: CountsFields;
    try {
      fields = await redisCall(scripts.heraldCountsRead(countsKey(userId)));
    } catch {
      // Redis is out of reach: nothing is known of publishes in flight, and asking again soon would only
      // count in the database again. The invalidation retried when Redis is back covers what changed.
      return { counts: await compute(), inFlight: false };
    }
    return cachedCounts(userId, fields) ?? countAndStore(userId, fields, compute);
  }

  async function syncRead(
    userId: string,
    afterSeq: number,
    limit: number,
    compute: () => Promise<NotificationCounts>,
  ): Promise<SyncSnapshot> {
    let answer: [CountsFields, string | null, (string | null)[]];
    try {
      answer = await redisCall(scripts.heraldSyncRead(countsKey(userId), seqKey(userId), recentKey(userId), afterSeq, limit));
    } catch {
      return { counts: await compute(), inFlight: false };
    }
    const [fields, counter, window] = answer;
    const cached = cachedCounts(userId, fields);
    if (!cached) return countAndStore(userId, fields, compute);
    const highest = counter === null ? null : Number(counter);
    if (highest === null || highest - afterSeq > limit) return { ...cached, same: { highest } };
    const seqs = Math.max(0, highest - afterSeq);
    return {
      ...cached,
      same: { highest, window: Array.from({ length: seqs }, (_, i) => (window[i] ? (JSON.parse(window[i]) as Notification) : undefined)) },
    };
  }

  /** What ADDING is told per user: keys, and announced, seqs to take, epoch. */
  const addingPart = (n: Map<string, number>, seqs: Map<string, number>) => (userId: string) => ({
    keys: [countsKey(userId), seqKey(userId)],
    args: [n.get(userId) ?? 0, seqs.get(userId) ?? 0, newEpoch()],
  });

  /** See FeedCache.adding. */
  function announce(userIds: string[], seqUserIds: string[]): Adding {
    const n = countPerUser(userIds);
    const seqs = countPerUser(seqUserIds);
    const users = [...new Set([...n.keys(), ...seqs.keys()])];
    const answers =
      users.length === 0
        ? Promise.resolve(new Map<string, unknown[]>())
        : forUsers('heraldFeedAdding', users, [ttl], addingPart(n, seqs), 2);
    return fromAnswers(n, seqs, answers);
  }

  /** See FeedCache.addingUnlessMuters. */
  async function announceUnlessMuters(
    userIds: string[],
    seqUserIds: string[],
    muters: MutersQuestion,
  ): Promise<Adding | { answer: MutersAnswer }> {
    const n = countPerUser(userIds);
    const seqs = countPerUser(seqUserIds);
    const users = [...new Set([...n.keys(), ...seqs.keys()])];
    const parts = users.map(addingPart(n, seqs));
    const keys = [muters.key, ...parts.flatMap((p) => p.keys)];
    let reply: [number, (string | number | null)[]];
    try {
      reply = await redisCall(
        scripts.heraldFeedAddingUnlessMuters(
          keys.length,
          ...keys,
          ttl,
          muters.complete,
          muters.userIds.length,
          ...muters.userIds,
          ...parts.flatMap((p) => p.args),
        ),
      );
    } catch {
      // Whether it ran is unknown: as with a lost ADDING reply, an announcement made stays until it is
      // taken for a dead publisher's, and seqs taken are holes that syncs settle. The muters are then
      // read from the database, without asking Redis again.
      return { answer: { userIds: muters.userIds, answer: undefined } };
    }
    const [done, answer] = reply;
    if (done !== 1) return { answer: { userIds: muters.userIds, answer: answer.map(Number) } };
    return fromAnswers(n, seqs, Promise.resolve(new Map(users.map((userId, i) => [userId, answer.slice(2 * i, 2 * i + 2)]))));
  }

  /** The announcement and seqs from ADDING's answers per user; a failure marks the users for invalidation. */
  function fromAnswers(n: Map<string, number>, seqs: Map<string, number>, answers: Promise<Map<string, unknown[]>>): Adding {
    const taken = answers.then((byUser) => new Map([...seqs.keys()].map((userId) => [userId, Number(byUser.get(userId)![1])])));
    // Told to the caller through `announced` (and the seqs then come from the database): not unhandled.
    taken.catch(() => undefined);
    const announced = answers.then(
      (byUser) => {
        const epochs: Announced = new Map([...n.keys()].map((userId) => [userId, String(byUser.get(userId)![0])]));
        renewWhileAdding(epochs);
        return epochs;
      },
      (error: unknown) => {
        // A failure marks the users for invalidation; with no epoch known, their report only makes the counts stale.
        remember([...n.keys()], error);
        return new Map<string, string>() as Announced;
      },
    );
    return { announced, taken };
  }

  /**
   * A publish waits for its insert as long as the database takes (a caller told 503 still has it
   * announced when it lands): renewed, its announcement is not taken for a dead publisher's.
   */
  function renewWhileAdding(announced: Announced): void {
    let renewed = 0;
    const timer = setInterval(() => {
      // A bound, should a publish never report (a bug): its announcement then dies as a crashed one's.
      if (++renewed > MAX_RENEWALS) return stopRenewing(announced);
      void redisCall(Promise.all([...announced].map(([userId, epoch]) => scripts.heraldFeedStillAdding(countsKey(userId), epoch)))).catch(
        () => undefined,
      );
    }, deps.renewMs ?? RENEW_MS);
    timer.unref();
    renewals.set(announced, timer);
  }

  return {
    close() {
      deps.redis.off('ready', onReady);
      for (const timer of renewals.values()) clearInterval(timer);
      renewals.clear();
    },

    async counts(userId, compute) {
      return (await countsWithState(userId, compute)).counts;
    },

    countsWithState,

    syncRead,

    async added(notifications, announced) {
      stopRenewing(announced);
      const byUser = new Map<string, Notification[]>();
      for (const n of notifications) {
        const mine = byUser.get(n.userId);
        if (mine) mine.push(n);
        else byUser.set(n.userId, [n]);
      }
      const users = [...byUser.keys()];
      if (users.length === 0) return;
      try {
        await forUsers('heraldFeedAdded', users, [ttl, recentTtl], (userId) => {
          const mine = byUser.get(userId)!;
          // Unknown epoch (the announcement did not reach Redis): '' matches none, so the counts go stale.
          const epoch = announced.get(userId) ?? '';
          return {
            keys: [countsKey(userId), recentKey(userId)],
            args: [mine.length, epoch, ...mine.flatMap((n) => [n.seq, JSON.stringify(n)])],
          };
        });
      } catch (error) {
        remember(users, error);
      }
    },

    adding: (userIds, seqUserIds = []) => announce(userIds, seqUserIds),

    // One script call for the whole batch: not on a cluster, nor for more users than one call takes.
    addingUnlessMuters: (userIds, seqUserIds, muters) =>
      cluster || new Set([...userIds, ...seqUserIds]).size > SCRIPT_USERS || muters.userIds.length > SCRIPT_USERS
        ? undefined
        : announceUnlessMuters(userIds, seqUserIds, muters),

    async abandoned(userIds, announced) {
      stopRenewing(announced);
      const n = countPerUser(userIds);
      if (n.size === 0) return;
      await forUsers('heraldFeedAbandoned', [...n.keys()], [ttl], (userId) => ({
        keys: [countsKey(userId)],
        args: [n.get(userId)!, announced.get(userId) ?? ''],
      })).catch((error: unknown) => remember([...n.keys()], error));
    },

    async changed(userIds) {
      try {
        await invalidate(userIds);
      } catch (error) {
        remember(userIds, error);
      }
    },

    async countsStamp(userId) {
      try {
        const [v, , , , live, epoch] = await redisCall(scripts.heraldCountsRead(countsKey(userId)));
        return stampOf(v, epoch, live === 1, userId);
      } catch {
        return undefined;
      }
    },

    async recent(userId, seqs) {
      if (seqs.length === 0 || pending.has(userId)) return seqs.map(() => undefined);
      try {
        const found = await redisCall(deps.redis.hmget(recentKey(userId), ...seqs.map(String)));
        return found.map((json) => (json === null ? undefined : (JSON.parse(json) as Notification)));
      } catch {
        return seqs.map(() => undefined);
      }
    },
  };
}
