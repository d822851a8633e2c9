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
  forEach(requests: readonly MuteQuery[], known?: MutersAnswer): Promise<Set<string>[]>;
  /**
   * Who decides whether any recipient of these requests is muted (those of requests that are not
   * critical), and the index to ask about them, for a caller that asks Redis within a step of its own
   * and passes the answer to forEach as `known`. Undefined without an index.
   */
  muters(requests: readonly MuteQuery[]): MutersQuestion | undefined;
}

export interface MuteQuery {
  userIds: readonly string[];
  type: string;
  category?: string | undefined;
}

/** See MutedRecipients.muters: SMISMEMBER `key` `complete` ...userIds. */
export interface MutersQuestion {
  key: string;
  complete: string;
  userIds: string[];
}

/** The answer to a MutersQuestion: the question's users, and SMISMEMBER's reply (undefined: Redis did not answer). */
export interface MutersAnswer {
  userIds: readonly string[];
  answer: readonly number[] | undefined;
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
  const open = (requests: readonly MuteQuery[]) =>
    requests.filter((request) => request.category === undefined || !critical.has(request.category));
  return {
    muters(requests) {
      if (!options.index) return undefined;
      return { key: options.index.key, complete: options.index.complete, userIds: [...new Set(open(requests).flatMap((r) => r.userIds))] };
    },
    async forEach(requests, known) {
      const deciding = open(requests);
      if (deciding.length === 0) return requests.map(() => new Set<string>());
      const recipients = [...new Set(deciding.flatMap((request) => request.userIds))];
      // An answer about other users than these is not used.
      const answered = known && known.userIds.length === recipients.length && known.userIds.every((id, i) => id === recipients[i]);
      // Redis did not answer the question: it is not asked again (everyone is read from the database).
      const mayMute = answered ? known.answer && options.index?.read(recipients, known.answer) : await options.index?.mayMute(recipients);
      const userIds = mayMute ? recipients.filter((userId) => mayMute.has(userId)) : recipients;
      if (userIds.length === 0) return requests.map(() => new Set<string>());
      const types = [...new Set(deciding.map((request) => request.type))];
      const categories = [...new Set(deciding.flatMap((request) => (request.category === undefined ? [] : [request.category])))];
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
