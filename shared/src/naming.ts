/**
 * Every room, channel and Redis key name lives here, so the gateway, the
 * publisher library, tools and tests can never disagree about them. Names
 * are built once from one prefix (`createNames`) and handed to whatever
 * needs them.
 */

/** @default "herald" */
export const DEFAULT_CHANNEL_PREFIX = 'herald';

/** The Socket.IO room holding every socket of one user (on each instance). */
export function userRoom(userId: string): string {
  return `user-${userId}`;
}

/** The Socket.IO room of a topic's local subscribers. */
export function topicRoom(topic: string): string {
  return `topic-${topic}`;
}

/** Every Redis channel and key Herald uses under one prefix. */
export interface HeraldNames {
  readonly prefix: string;
  /** The pub/sub channel carrying one user's notifications and feed changes. */
  userChannel(userId: string): string;
  /** Inverse of userChannel; undefined for a channel that is not a user channel of this prefix. */
  userIdFromChannel(channel: string): string | undefined;
  /** The pattern matching every user channel (the broadcast routing mode). */
  readonly userChannelPattern: string;
  /** The pub/sub channel of a topic. */
  topicChannel(topic: string): string;
  /** Inverse of topicChannel. */
  topicFromChannel(channel: string): string | undefined;
  /** Channel of an event-bus event (`order.placed`); patterns like `order.*` work on it too. */
  eventChannel(event: string): string;
  /** The user's seq counter. The `{userId}` hash tag keeps all of a user's keys in one cluster slot. */
  seqKey(userId: string): string;
  /** Bumped on every change of the user's topic memberships: gateways compare it to re-read them. */
  membershipKey(userId: string): string;
  /** A copy of the user's topics, tagged with the membership version it was read at (see createTopicsOnConnect). */
  topicsKey(userId: string): string;
  /** The lock that lets one instance run a retention sweep per interval. */
  readonly retentionLock: string;
  /** Retention: every user with stored notifications -> when their oldest known one was stored (ms). */
  readonly retentionOldest: string;
  /** Retention: users who received notifications since the last sweep (checked against the count caps). */
  readonly retentionTouched: string;
  /** Retention: present once the two sets above were filled from the database (gone with Redis's data). */
  readonly retentionSeeded: string;
  /** Carries the id of a user whose preferences changed, so every process drops what it kept of them (see createMuteSettings). */
  readonly preferencesChannel: string;
  /** The user's open sockets over every instance (socket id -> when it connected), for the per-user cap. */
  socketsKey(userId: string): string;
  /** The prefix of one rate limit's counters (one key per caller under it). */
  rateLimitKey(limit: string): string;
  /** The key prefix of the Socket.IO Redis adapter's own channels. */
  readonly adapterKey: string;
}

function inverse(head: string): (channel: string) => string | undefined {
  return (channel) => (channel.startsWith(head) ? channel.slice(head.length) : undefined);
}

/** Builds every name for one prefix; call it once and pass the result down. */
export function createNames(prefix: string = DEFAULT_CHANNEL_PREFIX): HeraldNames {
  const user = `${prefix}:user:`;
  const topic = `${prefix}:topic:`;
  const event = `${prefix}:event:`;
  return {
    prefix,
    userChannel: (userId) => `${user}${userId}`,
    userIdFromChannel: inverse(user),
    userChannelPattern: `${user}*`,
    topicChannel: (name) => `${topic}${name}`,
    topicFromChannel: inverse(topic),
    eventChannel: (name) => `${event}${name}`,
    seqKey: (userId) => `${prefix}:seq:{${userId}}`,
    membershipKey: (userId) => `${prefix}:memberships:{${userId}}`,
    topicsKey: (userId) => `${prefix}:topics:{${userId}}`,
    retentionLock: `${prefix}:retention-lock`,
    retentionOldest: `${prefix}:retention:oldest`,
    retentionTouched: `${prefix}:retention:touched`,
    retentionSeeded: `${prefix}:retention:seeded`,
    preferencesChannel: `${prefix}:preferences`,
    socketsKey: (userId) => `${prefix}:sockets:{${userId}}`,
    rateLimitKey: (limit) => `${prefix}:limit:${limit}`,
    adapterKey: `${prefix}#sio`,
  };
}
