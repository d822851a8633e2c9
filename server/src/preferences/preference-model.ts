import { Schema, type Connection, type Model } from 'mongoose';
import type { QuietHours } from '@herald/shared';
import { heraldModel } from '../platform/collections';

export interface PreferenceDoc {
  /** The user id. */
  _id: string;
  mutedTypes: string[];
  /** Categories turned off in-app (the API shows them as `categories: { social: { inApp: false } }`). */
  mutedCategories?: string[];
  /** Categories turned off as Web Push messages, and by email. */
  pushOffCategories?: string[];
  emailOffCategories?: string[];
  quietHours?: QuietHours | null;
  /** A tenant feed's document: the settings it holds of its own (see effectivePreferences). */
  overrides?: string[];
  updatedAt: Date;
}

const schema = new Schema<PreferenceDoc>(
  {
    _id: { type: String, required: true },
    mutedTypes: { type: [String], default: [] },
    mutedCategories: { type: [String], default: undefined },
    pushOffCategories: { type: [String], default: undefined },
    emailOffCategories: { type: [String], default: undefined },
    quietHours: {
      type: new Schema<QuietHours>({ start: String, end: String, timeZone: String }, { _id: false }),
      default: undefined,
    },
    overrides: { type: [String], default: undefined },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'preferences', versionKey: false, strictQuery: 'throw' },
);
// "Which of these recipients muted this type?" in one query per publish.
schema.index({ mutedTypes: 1 });
schema.index({ mutedCategories: 1 });

export type PreferenceModel = Model<PreferenceDoc>;

export function preferenceModel(connection: Connection): PreferenceModel {
  return heraldModel(connection, 'Preference', schema);
}
