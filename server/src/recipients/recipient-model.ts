import { Schema, type Connection, type Model } from 'mongoose';
import { heraldModel } from '../platform/collections';

/** What a backend told Herald about one user (see recipientInputSchema); the user id is the `_id`. */
export interface RecipientDoc {
  _id: string;
  email?: string;
  name?: string;
  locale?: string;
  timeZone?: string;
  updatedAt: Date;
}

const schema = new Schema<RecipientDoc>(
  {
    _id: { type: String, required: true },
    email: { type: String },
    name: { type: String },
    locale: { type: String },
    timeZone: { type: String },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'recipients', versionKey: false, strictQuery: 'throw' },
);

export type RecipientModel = Model<RecipientDoc>;

export function recipientModel(connection: Connection): RecipientModel {
  return heraldModel(connection, 'Recipient', schema);
}
