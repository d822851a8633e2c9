import { Schema, type Connection, type Model } from 'mongoose';
import { heraldModel } from '../platform/collections';

export interface PreferenceDoc {
  /** The user id. */
  _id: string;
  mutedTypes: string[];
  updatedAt: Date;
}

const schema = new Schema<PreferenceDoc>(
  {
    _id: { type: String, required: true },
    mutedTypes: { type: [String], default: [] },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'preferences', versionKey: false, strictQuery: 'throw' },
);
// "Which of these recipients muted this type?" in one query per publish.
schema.index({ mutedTypes: 1 });

export type PreferenceModel = Model<PreferenceDoc>;

export function preferenceModel(connection: Connection): PreferenceModel {
  return heraldModel(connection, 'Preference', schema);
}
