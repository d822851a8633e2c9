import type { Connection } from 'mongoose';
import { idempotencyModel } from './notifications/idempotency';
import { notificationModel } from './notifications/notification-model';
import { preferenceModel } from './preferences/preference-model';
import { topicModels } from './topics/topic-model';

/**
 * Creates every index Herald's own collections rely on, above all the unique
 * (userId, seq). autoIndex is off (no surprise index builds in production), so
 * this runs at start; creating an index that exists is a no-op. Collections of
 * the demo are indexed by installDemo, only where it runs.
 *
 * @example
 * await ensureIndexes(connection); // before the first publish
 */
export async function ensureIndexes(connection: Connection): Promise<void> {
  const { Topic, TopicMember } = topicModels(connection);
  const models = [notificationModel(connection), preferenceModel(connection), idempotencyModel(connection), Topic, TopicMember];
  await Promise.all(models.map((model) => model.createIndexes()));
}
