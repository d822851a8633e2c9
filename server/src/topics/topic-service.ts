import type { Connection } from 'mongoose';
import {
  createTopicSchema,
  topicMessageInputSchema,
  topicNameSchema,
  type HeraldNames,
  type JsonObject,
  type TopicChannelMessage,
  type TopicInfo,
} from '@herald/shared';
import { AppError, ValidationError, isDuplicateKey } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { publishTo, type RedisClient } from '../platform/redis-client';
import type { UserChannelPublisher } from '../channels/user-channel-publisher';
import { topicModels, type TopicDoc } from './topic-model';

/**
 * Decides whether a user may subscribe to a topic. `info` is null when no such topic was created.
 *
 * @example
 * const topicPolicy: TopicPolicy = ({ topic, info, isMember }) => topic.startsWith('public:') || (info !== null && isMember);
 */
export type TopicPolicy = (request: {
  userId: string;
  topic: string;
  info: TopicInfo | null;
  isMember: boolean;
}) => boolean | Promise<boolean>;

/** Created topics only: public ones are open to every signed-in user, private ones to members a backend added. */
export const defaultTopicPolicy: TopicPolicy = ({ info, isMember }) => info !== null && (info.visibility === 'public' || isMember);

export interface PublishToTopicOptions {
  /** Leave out every socket of this user (the user who caused the event). */
  excludeUserId?: string;
  /** Leave out this one socket. */
  excludeSocketId?: string;
}

function toInfo(doc: TopicDoc): TopicInfo {
  return { name: doc._id, visibility: doc.visibility, systemEvents: doc.systemEvents };
}

function parseTopic(topic: unknown): string {
  const parsed = topicNameSchema.safeParse(topic);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'topic');
  return parsed.data;
}

/**
 * Topics: named groups with persistent membership (so following survives
 * reconnects), authorised by a policy on the server. Membership is stored
 * first, then announced (at most once) on the member's user channel so their
 * sockets on every instance join or leave; a socket that connects later
 * joins its user's topics from the database. Topic messages are at-most-once
 * pub/sub on the topic's own channel, which only instances holding a
 * subscribed socket listen to; they are not stored.
 */
export interface TopicService {
  info(topic: string): Promise<TopicInfo | null>;
  /** The topic, or 404 not_found. */
  require(rawTopic: unknown): Promise<TopicInfo>;
  /** Sends a message to the topic's current subscribers; resolves with the instances that received it. */
  publishToTopic(topic: string, message: { event: string; data?: JsonObject }, options?: PublishToTopicOptions): Promise<number>;
  create(input: unknown): Promise<TopicInfo>;
  /** Creates the topic if it does not exist yet; returns it either way. */
  ensure(input: { name: string; visibility?: 'public' | 'private'; systemEvents?: boolean }): Promise<TopicInfo>;
  members(topic: string): Promise<string[]>;
  topicsOf(userId: string): Promise<string[]>;
  /** A backend adds a member (no policy check: the backend is trusted); true if it was not one. */
  addMember(topic: string, user: { id: string; name?: string }): Promise<boolean>;
  removeMember(topic: string, user: { id: string; name?: string }): Promise<boolean>;
  /** A user asks to join: the policy decides (403 forbidden, 404 not_found). */
  subscribe(user: { id: string; name: string }, rawTopic: unknown): Promise<string>;
  unsubscribe(user: { id: string; name: string }, rawTopic: unknown): Promise<string>;
}

export function createTopicService(deps: {
  connection: Connection;
  redis: RedisClient;
  userChannel: UserChannelPublisher;
  logger: Logger;
  policy?: TopicPolicy;
  names: HeraldNames;
}): TopicService {
  const { Topic, TopicMember } = topicModels(deps.connection);
  const policy = deps.policy ?? defaultTopicPolicy;

  async function info(topic: string): Promise<TopicInfo | null> {
    const doc = await Topic.findById(topic).lean();
    return doc ? toInfo(doc) : null;
  }

  async function require(rawTopic: unknown): Promise<TopicInfo> {
    const topic = parseTopic(rawTopic);
    const found = await info(topic);
    if (!found) throw new AppError('not_found', `No topic "${topic}".`);
    return found;
  }

  async function publishToTopic(
    topic: string,
    message: { event: string; data?: JsonObject },
    options: PublishToTopicOptions = {},
  ): Promise<number> {
    const parsed = topicMessageInputSchema.safeParse({ event: message.event, data: message.data ?? {} });
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'topic message');
    const payload: TopicChannelMessage = {
      topic: parseTopic(topic),
      event: parsed.data.event,
      data: parsed.data.data,
      sentAt: new Date().toISOString(),
      ...(options.excludeUserId ? { excludeUserId: options.excludeUserId } : {}),
      ...(options.excludeSocketId ? { excludeSocketId: options.excludeSocketId } : {}),
    };
    return publishTo(deps.redis, deps.names.topicChannel(payload.topic), JSON.stringify(payload));
  }

  async function setMembership(topic: string, user: { id: string; name?: string }, member: boolean): Promise<boolean> {
    const found = await require(topic);
    const _id = `${topic}|${user.id}`;
    let changed: boolean;
    if (member) {
      const result = await TopicMember.updateOne(
        { _id },
        { $setOnInsert: { topic, userId: user.id, joinedAt: new Date() } },
        { upsert: true },
      );
      changed = result.upsertedCount > 0;
    } else {
      changed = (await TopicMember.deleteOne({ _id })).deletedCount > 0;
    }
    await deps.userChannel.publish([{ userId: user.id, message: { kind: 'topic-membership', topic, member } }]);
    if (changed && found.systemEvents) {
      await publishToTopic(
        topic,
        { event: member ? 'joined' : 'left', data: { user: { id: user.id, name: user.name ?? '' } } },
        { excludeUserId: user.id },
      );
    }
    return changed;
  }

  return {
    info,
    /** The topic, or 404 not_found. */
    require,
    publishToTopic,

    async create(input: unknown): Promise<TopicInfo> {
      const parsed = createTopicSchema.safeParse(input);
      if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'topic');
      try {
        const doc = await Topic.create({
          _id: parsed.data.name,
          visibility: parsed.data.visibility,
          systemEvents: parsed.data.systemEvents,
          createdAt: new Date(),
        });
        return toInfo(doc.toObject());
      } catch (error) {
        if (isDuplicateKey(error)) throw new AppError('conflict', `Topic "${parsed.data.name}" already exists.`);
        throw error;
      }
    },

    /** Creates the topic if it does not exist yet; returns it either way. */
    async ensure(input: { name: string; visibility?: 'public' | 'private'; systemEvents?: boolean }): Promise<TopicInfo> {
      const parsed = createTopicSchema.parse(input);
      await Topic.updateOne(
        { _id: parsed.name },
        { $setOnInsert: { visibility: parsed.visibility, systemEvents: parsed.systemEvents, createdAt: new Date() } },
        { upsert: true },
      );
      return require(parsed.name);
    },

    async members(topic: string): Promise<string[]> {
      await require(parseTopic(topic));
      const docs = await TopicMember.find({ topic }).sort({ joinedAt: 1 }).lean();
      return docs.map((doc) => doc.userId);
    },

    async topicsOf(userId: string): Promise<string[]> {
      const docs = await TopicMember.find({ userId }).lean();
      return docs.map((doc) => doc.topic);
    },

    /** A backend adds a member (no policy check: the backend is trusted). */
    addMember: (topic: string, user: { id: string; name?: string }) => setMembership(parseTopic(topic), user, true),
    removeMember: (topic: string, user: { id: string; name?: string }) => setMembership(parseTopic(topic), user, false),

    /** A user asks to join: the policy decides. */
    async subscribe(user: { id: string; name: string }, rawTopic: unknown): Promise<string> {
      const topic = parseTopic(rawTopic);
      const [found, isMember] = await Promise.all([info(topic), TopicMember.exists({ _id: `${topic}|${user.id}` })]);
      if (!(await policy({ userId: user.id, topic, info: found, isMember: isMember !== null }))) {
        throw found ? new AppError('forbidden', `You may not subscribe to "${topic}".`) : new AppError('not_found', `No topic "${topic}".`);
      }
      await setMembership(topic, user, true);
      return topic;
    },

    async unsubscribe(user: { id: string; name: string }, rawTopic: unknown): Promise<string> {
      const topic = parseTopic(rawTopic);
      if (await info(topic)) await setMembership(topic, user, false);
      return topic;
    },
  };
}
