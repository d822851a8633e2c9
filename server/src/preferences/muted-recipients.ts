import mongoose, { type Connection } from 'mongoose';
import { preferenceModel } from './preference-model';

/** Who, of some recipients, has muted a type: nothing is stored or sent for them. */
export interface MutedRecipients {
  /**
   * Per request, the recipients who muted that request's type, from one read
   * for all of them (a batch of publishes costs one query, not one each).
   */
  forEach(requests: readonly { userIds: readonly string[]; type: string }[]): Promise<Set<string>[]>;
}

export function createMutedRecipients(connection: Connection): MutedRecipients {
  const Preference = preferenceModel(connection);
  return {
    async forEach(requests) {
      const userIds = [...new Set(requests.flatMap((request) => request.userIds))];
      const types = [...new Set(requests.map((request) => request.type))];
      const docs = await Preference.find(
        {
          _id: mongoose.trusted({ $in: userIds }),
          mutedTypes: mongoose.trusted({ $in: types }),
        },
        { mutedTypes: 1 },
      ).lean();
      const mutedTypes = new Map(docs.map((doc) => [doc._id, new Set(doc.mutedTypes)]));
      return requests.map((request) => new Set(request.userIds.filter((id) => mutedTypes.get(id)?.has(request.type))));
    },
  };
}
