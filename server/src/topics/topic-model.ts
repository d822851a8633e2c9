import { Schema, type Connection, type Model } from 'mongoose';
import { heraldModel } from '../platform/collections';

export interface TopicDoc {
  _id: string;
  visibility: 'public' | 'private';
  systemEvents: boolean;
  createdAt: Date;
}

export interface TopicMemberDoc {
  _id: string;
  topic: string;
  userId: string;
  joinedAt: Date;
  /**
   * False once removed: the document stays, so every change of one (topic, user) moves `version` and
   * a subscribe decided on an older version cannot re-add a member removed meanwhile. Absent on
   * documents written before: a member.
   */
  member?: boolean;
  version?: number;
}

const topicSchema = new Schema<TopicDoc>(
  {
    _id: { type: String, required: true },
    visibility: { type: String, enum: ['public', 'private'], required: true },
    systemEvents: { type: Boolean, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'topics', versionKey: false, strictQuery: 'throw' },
);

// One document per (topic, user): `_id` is `${topic}|${userId}`, so joining twice is a no-op.
const memberSchema = new Schema<TopicMemberDoc>(
  {
    _id: { type: String, required: true },
    topic: { type: String, required: true },
    userId: { type: String, required: true },
    joinedAt: { type: Date, required: true },
    member: { type: Boolean },
    version: { type: Number },
  },
  { collection: 'topic_members', versionKey: false, strictQuery: 'throw' },
);
memberSchema.index({ userId: 1 });
memberSchema.index({ topic: 1 });

export function topicModels(connection: Connection): { Topic: Model<TopicDoc>; TopicMember: Model<TopicMemberDoc> } {
  return {
    Topic: heraldModel(connection, 'Topic', topicSchema),
    TopicMember: heraldModel(connection, 'TopicMember', memberSchema),
  };
}
