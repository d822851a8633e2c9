import type { Connection } from 'mongoose';
import { migrateLegacyUserIds, refuseForeignDatabase } from './db-migrations';
import type { Logger } from './platform/logger';
import { idempotencyModel } from './notifications/idempotency';
import { notificationModel } from './notifications/notification-model';
import { preferenceModel } from './preferences/preference-model';
import { topicModels } from './topics/topic-model';

/**
 * Prepares the database at start: refuses a database that belongs to another
 * app (see refuseForeignDatabase), rewrites user ids stored as ObjectIds by an
 * older version (see migrateLegacyUserIds), then creates every index Herald's
 * own collections rely on, above all the unique (userId, seq). autoIndex is off
 * (no surprise index builds in production); creating an index that exists is a
 * no-op. Collections of the demo are indexed by installDemo, only where it runs.
 *
 * @example
 * await ensureIndexes(connection, logger); // before the first publish
 */
export async function ensureIndexes(connection: Connection, logger?: Logger): Promise<void> {
  await refuseForeignDatabase(connection);
  await migrateLegacyUserIds(connection, logger);
  const { Topic, TopicMember } = topicModels(connection);
  const models = [notificationModel(connection), preferenceModel(connection), idempotencyModel(connection), Topic, TopicMember];
  await Promise.all(models.map((model) => model.createIndexes()));
}
