import type { Connection } from 'mongoose';
import { postModels } from './demo/post-model';
import { idempotencyModel } from './notifications/idempotency';
import { notificationModel } from './notifications/notification-model';
import { preferenceModel } from './preferences/preference-model';
import { topicModels } from './topics/topic-model';
import { userModel } from './users/user-model';

/**
 * Creates every index the code relies on, above all the unique (userId, seq).
 * autoIndex is off (no surprise index builds in production), so this runs at
 * start; creating an index that exists is a no-op.
 */
export async function ensureIndexes(connection: Connection): Promise<void> {
  const { Topic, TopicMember } = topicModels(connection);
  const { Post, Comment } = postModels(connection);
  const models = [
    notificationModel(connection),
    userModel(connection),
    preferenceModel(connection),
    idempotencyModel(connection),
    Topic,
    TopicMember,
    Post,
    Comment,
  ];
  await Promise.all(models.map((model) => model.createIndexes()));
}
