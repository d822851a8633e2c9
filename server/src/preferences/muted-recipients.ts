import mongoose, { type Connection } from 'mongoose';
import type { MutersIndex } from './muters-index';
import { preferenceModel } from './preference-model';

/** Who, of some recipients, has muted a type or turned a category off: nothing is stored or sent for them. */
export interface MutedRecipients {
  /**
   * Per request, the recipients who muted that request's type or turned its category off in-app, from
   * one read for all of them (a batch of publishes costs one query, not one each). A request in a
   * critical category reaches everyone.
   */
  forEach(requests: readonly { userIds: readonly string[]; type: string; category?: string | undefined }[]): Promise<Set<string>[]>;
}

export function createMutedRecipients(
  connection: Connection,
  options: {
    critical?: readonly string[];
    /** Who may mute something: the others' preferences are not read. Without it, every recipient's are. */
    index?: MutersIndex;
  } = {},
): MutedRecipients {
  const Preference = preferenceModel(connection);
  const critical = new Set(options.critical ?? []);
  return {
    async forEach(requests) {
      const open = requests.filter((request) => request.category === undefined || !critical.has(request.category));
      if (open.length === 0) return requests.map(() => new Set<string>());
      const recipients = [...new Set(open.flatMap((request) => request.userIds))];
      const mayMute = await options.index?.mayMute(recipients);
      const userIds = mayMute ? recipients.filter((userId) => mayMute.has(userId)) : recipients;
      if (userIds.length === 0) return requests.map(() => new Set<string>());
      const types = [...new Set(open.map((request) => request.type))];
      const categories = [...new Set(open.flatMap((request) => (request.category === undefined ? [] : [request.category])))];
      const muting = [
        { mutedTypes: mongoose.trusted({ $in: types }) },
        ...(categories.length > 0 ? [{ mutedCategories: mongoose.trusted({ $in: categories }) }] : []),
      ];
      const docs = await Preference.find(
        { _id: mongoose.trusted({ $in: userIds }), ...(muting.length === 1 ? muting[0] : { $or: muting }) },
        { mutedTypes: 1, mutedCategories: 1 },
      ).lean();
      const byUser = new Map(
        docs.map((doc) => [doc._id, { types: new Set(doc.mutedTypes), categories: new Set(doc.mutedCategories ?? []) }]),
      );
      return requests.map((request) => {
        if (request.category !== undefined && critical.has(request.category)) return new Set<string>();
        return new Set(
          request.userIds.filter((id) => {
            const muted = byUser.get(id);
            return (
              muted !== undefined &&
              (muted.types.has(request.type) || (request.category !== undefined && muted.categories.has(request.category)))
            );
          }),
        );
      });
    },
  };
}
