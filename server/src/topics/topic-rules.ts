import { scopedTopicNameSchema, userIdSchema, type TopicInfo } from '@herald/shared';
import { ValidationError } from '../platform/errors';
import type { TopicDoc } from './topic-model';

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

/** A stored topic as callers see it. */
export function toInfo(doc: TopicDoc): TopicInfo {
  return { name: doc._id, visibility: doc.visibility, systemEvents: doc.systemEvents };
}

/** A topic name as sent (`kind:id`, or `<tenant>/kind:id`), checked: 400 validation_failed otherwise. */
export function parseTopic(topic: unknown): string {
  const parsed = scopedTopicNameSchema.safeParse(topic);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'topic');
  return parsed.data;
}

/** A member as a backend names them: the id checked like every user id Herald takes. */
export function parseMember(user: { id: string; name?: string }): { id: string; name?: string } {
  const parsed = userIdSchema.safeParse(user?.id);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'user id');
  return typeof user.name === 'string' ? { id: parsed.data, name: user.name } : { id: parsed.data };
}
