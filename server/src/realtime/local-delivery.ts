import { topicRoom, unscopedTopic, userRoom, type TopicChannelMessage, type UserChannelMessage } from '@herald/shared';
import type { Metrics } from '../platform/metrics';
import type { IoServer, IoSocket } from './io-types';
import type { DeliveryPositions } from './delivery-positions';

/**
 * Channel message -> emits to this instance's sockets. Exactly once per
 * socket: each instance that holds sockets of a user is subscribed once to the
 * user's channel and emits to its *local* sockets only (`io.local`), never
 * through the adapter, so N instances do not mean N copies.
 */
export function createLocalDelivery(deps: {
  io: IoServer;
  metrics: Metrics;
  positions: DeliveryPositions;
  /** A user's topic membership changed: their local sockets join or leave the topic. */
  onMembership(socket: IoSocket, topic: string, member: boolean): void;
}) {
  const { io, metrics } = deps;

  function toUser(userId: string, message: UserChannelMessage): void {
    metrics.channelMessages.inc({ kind: 'user' });
    const room = userRoom(userId);
    const local = io.local.to(room);
    const origin = 'originSocketId' in message ? message.originSocketId : undefined;
    // No echo: the socket whose request caused an update already has the answer in its ack.
    const others = origin ? local.except(origin) : local;
    switch (message.kind) {
      case 'notification':
        others.emit('notification', message.notification);
        for (const socketId of io.of('/').adapter.rooms.get(room) ?? []) {
          const socket = io.of('/').sockets.get(socketId);
          if (socket) deps.positions.pushed(socket, message.notification.seq);
        }
        metrics.delivered.inc(io.of('/').adapter.rooms.get(room)?.size ?? 0);
        if (message.publishedAt !== undefined) metrics.deliveryLatency.observe(Math.max(0, Date.now() - message.publishedAt) / 1000);
        return;
      case 'updated':
        for (const notification of message.notifications) others.emit('notification:updated', notification);
        others.emit('counts', message.counts);
        return;
      case 'deleted':
        others.emit('notification:deleted', message.ids);
        others.emit('counts', message.counts);
        return;
      case 'counts':
        others.emit('counts', message.counts);
        return;
      case 'topic-membership':
        for (const socketId of io.of('/').adapter.rooms.get(room) ?? []) {
          const socket = io.of('/').sockets.get(socketId);
          if (socket) deps.onMembership(socket, message.topic, message.member);
        }
        return;
    }
  }

  function toTopic(topic: string, message: TopicChannelMessage): void {
    metrics.channelMessages.inc({ kind: 'topic' });
    let target = io.local.to(topicRoom(topic));
    if (message.excludeUserId) target = target.except(userRoom(message.excludeUserId));
    if (message.excludeSocketId) target = target.except(message.excludeSocketId);
    const started = performance.now();
    // A tenant's topic is shown by its name in that tenant (its sockets are all of that tenant).
    target.emit('topic:message', { topic: unscopedTopic(topic), event: message.event, data: message.data, sentAt: message.sentAt });
    metrics.topicFanout.observe((performance.now() - started) / 1000);
  }

  return { toUser, toTopic };
}
