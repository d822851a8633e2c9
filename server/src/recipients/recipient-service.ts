import type { Connection } from 'mongoose';
import { recipientInputSchema, type Recipient, type RecipientInput } from '@herald/shared';
import { ValidationError } from '../platform/errors';
import { recipientModel, type RecipientDoc } from './recipient-model';

/**
 * Who a user is off the page: their email address, name, locale and time zone, as the backend sets them
 * (users cannot: an address is the backend's to vouch for). Every call is scoped to one user id.
 *
 * @example
 * await herald.recipients.set('user-42', { email: 'ada@example.com', locale: 'fr', timeZone: 'Europe/Paris' });
 */
export interface RecipientService {
  /** Creates or updates; a field given as null is removed, one left out is kept. `created`: there was none. */
  set(userId: string, input: RecipientInput): Promise<{ recipient: Recipient; created: boolean }>;
  /** The recipient, or null when none was set. */
  get(userId: string): Promise<Recipient | null>;
  /** Forgets everything set for the user; false when there was nothing. */
  forget(userId: string): Promise<boolean>;
}

const FIELDS = ['email', 'name', 'locale', 'timeZone'] as const;

function toRecipient(doc: RecipientDoc): Recipient {
  return {
    userId: doc._id,
    ...(doc.email !== undefined ? { email: doc.email } : {}),
    ...(doc.name !== undefined ? { name: doc.name } : {}),
    ...(doc.locale !== undefined ? { locale: doc.locale } : {}),
    ...(doc.timeZone !== undefined ? { timeZone: doc.timeZone } : {}),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

export function createRecipientService(connection: Connection): RecipientService {
  const Recipients = recipientModel(connection);
  return {
    async set(userId, input) {
      const parsed = recipientInputSchema.safeParse(input ?? {});
      if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'recipient');
      const $set: Partial<RecipientDoc> = { updatedAt: new Date() };
      const $unset: Record<string, ''> = {};
      for (const field of FIELDS) {
        const value = parsed.data[field];
        if (value === null) $unset[field] = '';
        else if (value !== undefined) $set[field] = value;
      }
      const update = Object.keys($unset).length > 0 ? { $set, $unset } : { $set };
      const result = await Recipients.findOneAndUpdate({ _id: userId }, update, {
        upsert: true,
        returnDocument: 'after',
        includeResultMetadata: true,
        lean: true,
      });
      const doc = result.value;
      if (!doc) throw new Error('the recipient was not written');
      return { recipient: toRecipient(doc), created: result.lastErrorObject?.updatedExisting === false };
    },
    async get(userId) {
      const doc = await Recipients.findById(userId).lean();
      return doc ? toRecipient(doc) : null;
    },
    async forget(userId) {
      const { deletedCount } = await Recipients.deleteOne({ _id: userId });
      return deletedCount > 0;
    },
  };
}
