/**
 * Room and channel names live here only, so the server, the publisher library
 * and tests can never disagree about them.
 */

/** The Socket.IO room holding every socket of one user. */
export function userRoom(userId: string): string {
  return `user-${userId}`;
}

/** @default "herald" */
export const DEFAULT_CHANNEL_PREFIX = 'herald';

/** The Redis pub/sub channel carrying one user's notifications to the gateways that hold their sockets. */
export function userChannel(userId: string, prefix: string = DEFAULT_CHANNEL_PREFIX): string {
  return `${prefix}:user:${userId}`;
}

/** Inverse of {@link userChannel}; undefined for channels that are not user channels of this prefix. */
export function userIdFromChannel(channel: string, prefix: string = DEFAULT_CHANNEL_PREFIX): string | undefined {
  const head = `${prefix}:user:`;
  return channel.startsWith(head) ? channel.slice(head.length) : undefined;
}
